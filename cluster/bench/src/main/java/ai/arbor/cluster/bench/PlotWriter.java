package ai.arbor.cluster.bench;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes the picture of a run: {@code .html}/{@code .svg} as self-contained SVG (nothing fetched when viewed),
 * {@code .png} through headless Java2D.
 */
public final class PlotWriter {
    private PlotWriter() { }

    public static void write(BenchReport report, Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (name.endsWith(".png")) {
                Files.write(file, png(report));
            } else if (name.endsWith(".svg")) {
                Files.writeString(file, svg(report), StandardCharsets.UTF_8);
            } else if (name.endsWith(".html") || name.endsWith(".htm")) {
                Files.writeString(file, html(report), StandardCharsets.UTF_8);
            } else {
                throw new BenchException("--plot must end in .html, .svg or .png: " + file);
            }
        } catch (IOException e) {
            throw new BenchException("cannot write " + file + ": " + e.getMessage());
        }
    }

    public static void checkName(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!(name.endsWith(".png") || name.endsWith(".svg") || name.endsWith(".html") || name.endsWith(".htm"))) {
            throw new BenchException("--plot must end in .html, .svg or .png: " + file);
        }
    }

    static String svg(BenchReport report) {
        SvgCanvas canvas = new SvgCanvas(BenchCharts.WIDTH, BenchCharts.HEIGHT);
        BenchCharts.draw(report, canvas);
        return canvas.document();
    }

    static String html(BenchReport report) {
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>arbor bench "
                + SvgCanvas.escape(report.model()) + "</title>\n<style>body{margin:16px;background:#fafafa}"
                + "svg{background:#fff;box-shadow:0 1px 4px #0002;max-width:100%;height:auto}</style></head>\n<body>\n"
                + svg(report) + "</body></html>\n";
    }

    static byte[] png(BenchReport report) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(BenchCharts.WIDTH, BenchCharts.HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            BenchCharts.draw(report, new Graphics2dCanvas(g));
        } finally {
            g.dispose();
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }
}

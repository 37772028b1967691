package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotWriterTest {
    /** A plausible run: 60 requests, 8 at a time, 32 tokens each with jittered gaps. */
    static BenchReport sampleReport() {
        SplittableRandom rnd = new SplittableRandom(1);
        List<RequestResult> results = new ArrayList<>();
        long ms = 1_000_000L;
        long[] slotFree = new long[8];
        for (int i = 0; i < 60; i++) {
            int slot = i % 8;
            long sent = slotFree[slot];
            long t = sent + (long) ((80 + rnd.nextDouble() * 120) * ms);
            long[] times = new long[32];
            for (int k = 0; k < 32; k++) {
                times[k] = t;
                t += (long) ((15 + rnd.nextDouble() * 10 + (rnd.nextInt(30) == 0 ? 60 : 0)) * ms);
            }
            results.add(new RequestResult(i, i != 13, i == 13 ? 500 : 200, i == 13 ? "boom" : null, sent, t,
                    i == 13 ? new long[0] : times, 128, 32, i % 3 == 0 ? 64 : 0, "length"));
            slotFree[slot] = t;
        }
        long end = 0;
        for (long s : slotFree) {
            end = Math.max(end, s);
        }
        return ReportBuilder.build(ReportBuilderTest.settings(60), new RequestDriver.Run(results, 0, end),
                Instant.EPOCH);
    }

    @Test
    void htmlIsSelfContainedSvg(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("r.html");
        PlotWriter.write(sampleReport(), f);
        String html = Files.readString(f);
        assertTrue(html.contains("<svg") && html.contains("</svg>"));
        assertTrue(html.contains("Time to first token") && html.contains("Throughput over time"));
        assertTrue(html.contains("p99"));
        assertFalse(html.contains("<script"), "nothing to run or fetch at view time");
        assertFalse(html.replace("http://www.w3.org/2000/svg", "").replace("http://127.0.0.1:1", "")
                .contains("http"), "no external references");
    }

    @Test
    void pngIsAReadableImage(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("r.png");
        PlotWriter.write(sampleReport(), f);
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(BenchCharts.WIDTH, img.getWidth());
        assertEquals(BenchCharts.HEIGHT, img.getHeight());
        // Something was drawn: not a blank white page.
        int nonWhite = 0;
        for (int y = 0; y < img.getHeight(); y += 4) {
            for (int x = 0; x < img.getWidth(); x += 4) {
                if ((img.getRGB(x, y) & 0xffffff) != 0xffffff) {
                    nonWhite++;
                }
            }
        }
        assertTrue(nonWhite > 1000, "pixels drawn: " + nonWhite);
        String keep = System.getProperty("bench.plot.keep");
        if (keep != null) {
            Files.copy(f, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void unknownExtensionIsRejected(@TempDir Path dir) {
        assertThrows(BenchException.class, () -> PlotWriter.write(sampleReport(), dir.resolve("r.pdf")));
    }

    @Test
    void ticksAreRound() {
        double[] t = BenchCharts.niceTicks(0, 87, 5);
        assertEquals(0, t[0]);
        assertEquals(20, t[1] - t[0], 1e-9);
        assertTrue(t[t.length - 1] >= 87);
    }
}

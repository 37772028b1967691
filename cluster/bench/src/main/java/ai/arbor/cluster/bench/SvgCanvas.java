package ai.arbor.cluster.bench;

import java.util.Locale;

/** Renders {@link Canvas} calls as an SVG document. */
final class SvgCanvas implements Canvas {
    private final StringBuilder svg = new StringBuilder();
    private final int width;
    private final int height;

    SvgCanvas(int width, int height) {
        this.width = width;
        this.height = height;
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill) {
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>%n",
                x, y, w, h, fill));
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String stroke, double w, boolean dashed) {
        svg.append(String.format(Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n",
                x1, y1, x2, y2, stroke, w, dashed ? " stroke-dasharray=\"5,4\"" : ""));
    }

    @Override
    public void polyline(double[] xs, double[] ys, String stroke, double w) {
        svg.append("<polyline fill=\"none\" stroke=\"").append(stroke).append("\" stroke-width=\"")
                .append(String.format(Locale.ROOT, "%.1f", w)).append("\" points=\"");
        for (int i = 0; i < xs.length; i++) {
            svg.append(String.format(Locale.ROOT, "%.1f,%.1f ", xs[i], ys[i]));
        }
        svg.append("\"/>\n");
    }

    @Override
    public void text(double x, double y, String text, double size, String fill, Anchor anchor, boolean bold) {
        svg.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" fill=\"%s\" text-anchor=\"%s\"%s>%s</text>%n", x, y,
                size, fill, switch (anchor) {
                    case START -> "start";
                    case MIDDLE -> "middle";
                    case END -> "end";
                }, bold ? " font-weight=\"bold\"" : "", escape(text)));
    }

    @Override
    public void verticalText(double x, double y, String text, double size, String fill) {
        svg.append(String.format(Locale.ROOT,
                "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" font-size=\"%.0f\" fill=\"%s\" "
                        + "text-anchor=\"middle\">%s</text>%n", x, y, size, fill, escape(text)));
    }

    String document() {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\"" + height
                + "\" viewBox=\"0 0 " + width + " " + height + "\" font-family=\"Helvetica, Arial, sans-serif\">\n"
                + svg + "</svg>\n";
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

package ai.arbor.cluster.bench;

/** The few drawing operations the charts need, so one layout renders both to SVG and to a PNG. Colours are "#rrggbb". */
interface Canvas {
    enum Anchor { START, MIDDLE, END }

    void rect(double x, double y, double w, double h, String fill);

    void line(double x1, double y1, double x2, double y2, String stroke, double width, boolean dashed);

    void polyline(double[] xs, double[] ys, String stroke, double width);

    void text(double x, double y, String text, double size, String fill, Anchor anchor, boolean bold);

    /** Text turned 90 degrees counter-clockwise, centred on (x, y): vertical axis titles. */
    void verticalText(double x, double y, String text, double size, String fill);
}

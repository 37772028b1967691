package ai.arbor.cluster.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Lays out the picture of a run: a headline of the key figures, histograms of TTFT, ITL and end-to-end latency with
 * their median and p99 marked, and output throughput with requests in flight over time.
 */
final class BenchCharts {
    static final int WIDTH = 1200;
    static final int HEIGHT = 820;

    private static final String INK = "#222222";
    private static final String MUTED = "#666666";
    private static final String GRID = "#e4e4e4";
    private static final String BLUE = "#3b6fb6";
    private static final String ORANGE = "#e0802b";
    private static final String GREEN = "#3a9a5b";
    private static final String PURPLE = "#7b5ea7";
    private static final String RED = "#c0392b";
    private static final int HEADER = 96;
    private static final int BINS = 40;

    private BenchCharts() { }

    static void draw(BenchReport r, Canvas c) {
        c.rect(0, 0, WIDTH, HEIGHT, "#ffffff");
        header(r, c);
        double pw = WIDTH / 2.0, ph = (HEIGHT - HEADER) / 2.0;
        histogram(c, 0, HEADER, pw, ph, "Time to first token", "TTFT (ms)", "requests", ttfts(r), BLUE);
        histogram(c, pw, HEADER, pw, ph, "Inter-token latency", "ITL (ms)", "token gaps", r.itlSamplesMs(), ORANGE);
        histogram(c, 0, HEADER + ph, pw, ph, "End-to-end latency", "E2E (ms)", "requests", e2es(r), GREEN);
        throughput(c, pw, HEADER + ph, pw, ph, r.timeline());
    }

    private static void header(BenchReport r, Canvas c) {
        String title = String.format(Locale.ROOT, "arbor bench: %s, %s dataset, %d prompts, concurrency %s, rate %s",
                r.model(), r.dataset(), r.numPrompts(), r.concurrency() == 0 ? "unlimited" : r.concurrency(),
                Double.isInfinite(r.requestRate()) ? "inf" : fmt(r.requestRate()) + "/s");
        c.text(24, 34, title, 20, INK, Canvas.Anchor.START, true);
        String figures = String.format(Locale.ROOT,
                "%d ok, %d failed in %.1f s   |   %.2f req/s   |   %.1f output tok/s   |   %.1f total tok/s   |   "
                        + "cached %.1f%%", r.completed(), r.failed(), r.durationSeconds(), r.requestThroughput(),
                r.outputThroughput(), r.totalTokenThroughput(), 100 * r.cachedTokenRatio());
        c.text(24, 62, figures, 15, MUTED, Canvas.Anchor.START, false);
        String lat = String.format(Locale.ROOT, "median TTFT %s ms   |   median TPOT %s ms   |   median ITL %s ms"
                        + "   |   median E2E %s ms   |   %s", med(r.ttftMs()), med(r.tpotMs()), med(r.itlMs()),
                med(r.e2eMs()), r.url());
        c.text(24, 84, lat, 15, MUTED, Canvas.Anchor.START, false);
    }

    private static void histogram(Canvas c, double x0, double y0, double w, double h, String title, String xLabel,
                                  String yLabel, double[] values, String color) {
        Frame f = new Frame(x0, y0, w, h);
        c.text(x0 + w / 2, y0 + 26, title, 16, INK, Canvas.Anchor.MIDDLE, true);
        if (values.length == 0) {
            c.text(x0 + w / 2, y0 + h / 2, "no data", 14, MUTED, Canvas.Anchor.MIDDLE, false);
            return;
        }
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        double p50 = Distribution.percentile(sorted, 50), p99 = Distribution.percentile(sorted, 99);
        // A few extreme outliers would squash the histogram into one bar: cut the axis a little past p99 and count
        // what lies beyond in the last bar.
        double hi = Math.min(sorted[sorted.length - 1], p99 * 1.25);
        double lo = Math.max(0, Math.min(sorted[0], p50 - (hi - p50)));
        if (hi - lo < 1e-9) {
            hi = lo + Math.max(1, Math.abs(lo) * 0.1);
        }
        double[] ticksX = niceTicks(lo, hi, 6);
        lo = Math.min(lo, ticksX[0]);
        hi = Math.max(hi, ticksX[ticksX.length - 1]);
        int[] counts = new int[BINS];
        for (double v : sorted) {
            int b = (int) ((v - lo) / (hi - lo) * BINS);
            counts[Math.max(0, Math.min(BINS - 1, b))]++;
        }
        int maxCount = 0;
        for (int n : counts) {
            maxCount = Math.max(maxCount, n);
        }
        double[] ticksY = niceTicks(0, maxCount, 5);
        double yMax = ticksY[ticksY.length - 1];
        axes(c, f, ticksX, lo, hi, ticksY, yMax, xLabel, yLabel);
        double bw = f.pw / BINS;
        for (int b = 0; b < BINS; b++) {
            if (counts[b] > 0) {
                double bh = counts[b] / yMax * f.ph;
                c.rect(f.px + b * bw + 0.5, f.py + f.ph - bh, Math.max(1, bw - 1), bh, color);
            }
        }
        marker(c, f, (p50 - lo) / (hi - lo), "p50 " + num(p50), INK, 0);
        marker(c, f, (p99 - lo) / (hi - lo), "p99 " + num(p99), RED, 1);
        c.text(f.px + f.pw, y0 + 44, sorted.length + " samples", 12, MUTED, Canvas.Anchor.END, false);
    }

    private static void marker(Canvas c, Frame f, double frac, String label, String color, int row) {
        if (frac < 0 || frac > 1) {
            return;
        }
        double x = f.px + frac * f.pw;
        c.line(x, f.py, x, f.py + f.ph, color, 1.5, true);
        boolean right = frac < 0.8;
        c.text(x + (right ? 4 : -4), f.py + 14 + 16 * row, label, 12, color,
                right ? Canvas.Anchor.START : Canvas.Anchor.END, true);
    }

    private static void throughput(Canvas c, double x0, double y0, double w, double h, List<TimelinePoint> tl) {
        Frame f = new Frame(x0, y0, w, h);
        c.text(x0 + w / 2, y0 + 26, "Throughput over time", 16, INK, Canvas.Anchor.MIDDLE, true);
        if (tl.isEmpty()) {
            return;
        }
        double width = tl.size() > 1 ? tl.get(1).startSeconds() - tl.get(0).startSeconds() : 1;
        double tEnd = tl.get(tl.size() - 1).startSeconds() + width;
        double maxTok = 0;
        int maxFlight = 0;
        for (TimelinePoint p : tl) {
            maxTok = Math.max(maxTok, p.outputTokensPerSecond());
            maxFlight = Math.max(maxFlight, p.inFlight());
        }
        double[] ticksX = niceTicks(0, tEnd, 6);
        double xMax = Math.max(tEnd, ticksX[ticksX.length - 1]);
        double[] ticksY = niceTicks(0, Math.max(1, maxTok), 5);
        double yMax = ticksY[ticksY.length - 1];
        axes(c, f, ticksX, 0, xMax, ticksY, yMax, "time since start (s)", "output tokens / s");
        double[] xs = new double[tl.size() * 2], ys = new double[tl.size() * 2];
        double[] fx = new double[tl.size() * 2], fy = new double[tl.size() * 2];
        double flightMax = niceTicks(0, Math.max(1, maxFlight), 5)[niceTicks(0, Math.max(1, maxFlight), 5).length - 1];
        for (int i = 0; i < tl.size(); i++) {
            TimelinePoint p = tl.get(i);
            double a = f.px + p.startSeconds() / xMax * f.pw, b = f.px + (p.startSeconds() + width) / xMax * f.pw;
            double y = f.py + f.ph - p.outputTokensPerSecond() / yMax * f.ph;
            double yf = f.py + f.ph - p.inFlight() / flightMax * f.ph;
            xs[2 * i] = a; xs[2 * i + 1] = b; ys[2 * i] = y; ys[2 * i + 1] = y;
            fx[2 * i] = a; fx[2 * i + 1] = b; fy[2 * i] = yf; fy[2 * i + 1] = yf;
        }
        c.polyline(fx, fy, PURPLE, 1.5);
        c.polyline(xs, ys, BLUE, 2.5);
        // Right-hand axis for requests in flight.
        for (double t : niceTicks(0, Math.max(1, maxFlight), 5)) {
            double y = f.py + f.ph - t / flightMax * f.ph;
            c.text(f.px + f.pw + 6, y + 4, num(t), 11, PURPLE, Canvas.Anchor.START, false);
        }
        c.verticalText(f.px + f.pw + 40, f.py + f.ph / 2, "requests in flight", 12, PURPLE);
        // Legend above the plot area, where no data can hide it.
        double ly = y0 + 40, lx = f.px + f.pw - 190;
        c.line(lx, ly, lx + 20, ly, BLUE, 2.5, false);
        c.text(lx + 24, ly + 4, "output tok/s", 12, BLUE, Canvas.Anchor.START, false);
        c.line(lx + 110, ly, lx + 130, ly, PURPLE, 1.5, false);
        c.text(lx + 134, ly + 4, "in flight", 12, PURPLE, Canvas.Anchor.START, false);
    }

    private static void axes(Canvas c, Frame f, double[] ticksX, double xLo, double xHi, double[] ticksY, double yMax,
                             String xLabel, String yLabel) {
        for (double t : ticksY) {
            double y = f.py + f.ph - t / yMax * f.ph;
            c.line(f.px, y, f.px + f.pw, y, GRID, 1, false);
            c.text(f.px - 6, y + 4, num(t), 11, MUTED, Canvas.Anchor.END, false);
        }
        for (double t : ticksX) {
            double x = f.px + (t - xLo) / (xHi - xLo) * f.pw;
            if (x < f.px - 0.5 || x > f.px + f.pw + 0.5) {
                continue;
            }
            c.line(x, f.py + f.ph, x, f.py + f.ph + 5, MUTED, 1, false);
            c.text(x, f.py + f.ph + 18, num(t), 11, MUTED, Canvas.Anchor.MIDDLE, false);
        }
        c.line(f.px, f.py + f.ph, f.px + f.pw, f.py + f.ph, INK, 1, false);
        c.line(f.px, f.py, f.px, f.py + f.ph, INK, 1, false);
        c.text(f.px + f.pw / 2, f.py + f.ph + 38, xLabel, 12, INK, Canvas.Anchor.MIDDLE, false);
        c.verticalText(f.px - 46, f.py + f.ph / 2, yLabel, 12, INK);
    }

    /** Round tick values covering [lo, hi] with about {@code n} steps of 1, 2 or 5 times a power of ten. */
    static double[] niceTicks(double lo, double hi, int n) {
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        double raw = (hi - lo) / n;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
        double start = Math.floor(lo / step) * step;
        List<Double> ticks = new ArrayList<>();
        for (double t = start; t < hi + step * 0.999; t += step) {
            ticks.add(Math.round(t / step) * step);
        }
        double[] out = new double[ticks.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ticks.get(i);
        }
        return out;
    }

    private static double[] ttfts(BenchReport r) {
        return r.requests().stream().filter(s -> s.success() && s.ttftMs() >= 0)
                .mapToDouble(BenchReport.RequestSample::ttftMs).toArray();
    }

    private static double[] e2es(BenchReport r) {
        return r.requests().stream().filter(BenchReport.RequestSample::success)
                .mapToDouble(BenchReport.RequestSample::e2eMs).toArray();
    }

    private static String med(Distribution d) {
        return d == null ? "-" : num(d.p50());
    }

    static String num(double v) {
        double a = Math.abs(v);
        if (a >= 1000 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return a >= 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String fmt(double v) {
        return BenchCharts.num(v);
    }

    /** A panel's plot area inside its cell, leaving room for titles and axis labels. */
    private static final class Frame {
        final double px, py, pw, ph;

        Frame(double x0, double y0, double w, double h) {
            px = x0 + 76;
            py = y0 + 52;
            pw = w - 76 - 64;
            ph = h - 52 - 56;
        }
    }
}

package ai.arbor.cluster.bench;

import java.util.ArrayList;
import java.util.List;

/** Bins a run into about fifty intervals of throughput and concurrency, for the plot of throughput over time. */
final class Timeline {
    private static final int TARGET_BINS = 50;
    private static final double[] NICE = {0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600};

    private Timeline() { }

    static List<TimelinePoint> of(RequestDriver.Run run) {
        double duration = run.durationSeconds();
        double width = binWidth(duration);
        int bins = Math.max(1, (int) Math.ceil(duration / width));
        double[] tokens = new double[bins];
        double[] finished = new double[bins];
        int[] inFlight = new int[bins];
        for (RequestResult r : run.results()) {
            double sent = seconds(r.sentAt(), run);
            double done = seconds(r.doneAt(), run);
            for (int b = 0; b < bins; b++) {
                double mid = (b + 0.5) * width;
                if (sent <= mid && mid < done) {
                    inFlight[b]++;
                }
            }
            if (!r.success()) {
                continue;
            }
            finished[bin(done, width, bins)]++;
            long[] t = r.contentTimes();
            // Chunks may carry more than one token: spread the server's token count evenly over them.
            double perChunk = t.length == 0 ? 0 : (double) r.completionTokens() / t.length;
            for (long at : t) {
                tokens[bin(seconds(at, run), width, bins)] += perChunk;
            }
        }
        List<TimelinePoint> points = new ArrayList<>(bins);
        // Every bin is divided by the full width, the last (partial) one too: a few tokens in its sliver of time
        // would otherwise show as a spike that dwarfs the run.
        for (int b = 0; b < bins; b++) {
            points.add(new TimelinePoint(b * width, tokens[b] / width, finished[b] / width, inFlight[b]));
        }
        return points;
    }

    static double binWidth(double duration) {
        for (double w : NICE) {
            if (duration / w <= TARGET_BINS) {
                return w;
            }
        }
        return NICE[NICE.length - 1];
    }

    private static int bin(double seconds, double width, int bins) {
        return Math.max(0, Math.min(bins - 1, (int) (seconds / width)));
    }

    private static double seconds(long nanos, RequestDriver.Run run) {
        return (nanos - run.startNanos()) / 1e9;
    }
}

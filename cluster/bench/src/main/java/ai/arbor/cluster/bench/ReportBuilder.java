package ai.arbor.cluster.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Turns the raw results of a run into the figures of a {@link BenchReport}. */
public final class ReportBuilder {
    private static final double MS = 1e6;

    private ReportBuilder() { }

    public static BenchReport build(BenchSettings settings, RequestDriver.Run run, Instant startedAt) {
        return build(settings, run, startedAt, null);
    }

    public static BenchReport build(BenchSettings settings, RequestDriver.Run run, Instant startedAt,
                                    Map<String, Double> serverMetrics) {
        List<RequestResult> results = run.results();
        double duration = run.durationSeconds();
        int completed = 0;
        long input = 0, output = 0, cached = 0;
        List<Double> ttft = new ArrayList<>(), tpot = new ArrayList<>(), itl = new ArrayList<>(), e2e = new ArrayList<>();
        Map<String, Integer> errors = new TreeMap<>();
        Map<String, String> examples = new TreeMap<>();
        List<BenchReport.RequestSample> samples = new ArrayList<>(results.size());
        for (RequestResult r : results) {
            if (r.success()) {
                completed++;
                input += Math.max(r.promptTokens(), 0);
                output += r.completionTokens();
                cached += r.cachedTokens();
                if (r.ttftNanos() >= 0) {
                    ttft.add(r.ttftNanos() / MS);
                }
                if (r.tpotNanos() >= 0) {
                    tpot.add(r.tpotNanos() / MS);
                }
                long[] t = r.contentTimes();
                for (int i = 1; i < t.length; i++) {
                    itl.add((t[i] - t[i - 1]) / MS);
                }
                e2e.add(r.e2eNanos() / MS);
            } else {
                errors.merge(r.errorKind(), 1, Integer::sum);
                examples.putIfAbsent(r.errorKind(), r.error());
            }
            samples.add(new BenchReport.RequestSample(r.index(), r.success(), (r.sentAt() - run.startNanos()) / MS,
                    r.success() ? r.ttftNanos() / MS : -1, r.success() ? r.tpotNanos() / MS : -1,
                    r.success() ? r.e2eNanos() / MS : -1, r.promptTokens(), r.completionTokens(), r.cachedTokens(),
                    r.error()));
        }
        double[] itlArray = toArray(itl);
        return new BenchReport(settings.url().toString(), settings.model(),
                settings.endpoint().name().toLowerCase(java.util.Locale.ROOT), settings.dataset(),
                settings.numPrompts(), settings.concurrency(), settings.requestRate(), startedAt.toString(),
                completed, results.size() - completed, duration, input, output, cached,
                input == 0 ? 0 : (double) cached / input,
                completed / duration, output / duration, (input + output) / duration,
                dist(ttft), dist(tpot), itlArray.length == 0 ? null : Distribution.of(itlArray),
                dist(e2e), errors, examples, Timeline.of(run), samples, itlArray, serverMetrics);
    }

    private static Distribution dist(List<Double> values) {
        return values.isEmpty() ? null : Distribution.of(toArray(values));
    }

    private static double[] toArray(List<Double> values) {
        double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return a;
    }
}

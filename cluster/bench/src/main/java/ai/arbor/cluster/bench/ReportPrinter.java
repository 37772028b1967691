package ai.arbor.cluster.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/** The on-screen summary, laid out like vLLM's bench so the two are easy to compare. */
public final class ReportPrinter {
    private static final int WIDTH = 50;

    private ReportPrinter() { }

    public static void print(BenchReport r, PrintStream out) {
        out.println(center(" Serving Benchmark Result "));
        row(out, "Successful requests:", String.valueOf(r.completed()));
        row(out, "Failed requests:", String.valueOf(r.failed()));
        row(out, "Maximum request concurrency:", r.concurrency() == 0 ? "unlimited" : String.valueOf(r.concurrency()));
        row(out, "Request rate (req/s):", Double.isInfinite(r.requestRate()) ? "inf" : fmt(r.requestRate()));
        row(out, "Benchmark duration (s):", fmt(r.durationSeconds()));
        row(out, "Total input tokens:", String.valueOf(r.totalInputTokens()));
        row(out, "Total generated tokens:", String.valueOf(r.totalOutputTokens()));
        row(out, "Cached prompt tokens:", r.cachedTokens() + String.format(Locale.ROOT, " (%.1f%%)",
                100 * r.cachedTokenRatio()));
        row(out, "Request throughput (req/s):", fmt(r.requestThroughput()));
        row(out, "Output token throughput (tok/s):", fmt(r.outputThroughput()));
        row(out, "Total token throughput (tok/s):", fmt(r.totalTokenThroughput()));
        latency(out, "Time to First Token", "TTFT", r.ttftMs());
        latency(out, "Time per Output Token (excl. 1st token)", "TPOT", r.tpotMs());
        latency(out, "Inter-token Latency", "ITL", r.itlMs());
        latency(out, "End-to-end Latency", "E2E", r.e2eMs());
        if (!r.errors().isEmpty()) {
            out.println(center("Errors"));
            for (Map.Entry<String, Integer> e : r.errors().entrySet()) {
                row(out, e.getKey() + ":", String.valueOf(e.getValue()));
                out.println("  e.g. " + r.errorExamples().get(e.getKey()));
            }
        }
        if (r.serverMetrics() != null && !r.serverMetrics().isEmpty()) {
            out.println(center("Server /metrics during the run"));
            r.serverMetrics().forEach((series, delta) -> out.printf(Locale.ROOT, "  %-60s %+.6g%n", series, delta));
        }
        out.println("=".repeat(WIDTH));
    }

    private static void latency(PrintStream out, String title, String name, Distribution d) {
        out.println(center(title));
        if (d == null) {
            out.println("  (not measured)");
            return;
        }
        row(out, "Mean " + name + " (ms):", fmt(d.mean()));
        row(out, "Median " + name + " (ms):", fmt(d.p50()));
        row(out, "P90 " + name + " (ms):", fmt(d.p90()));
        row(out, "P99 " + name + " (ms):", fmt(d.p99()));
    }

    private static void row(PrintStream out, String label, String value) {
        out.printf(Locale.ROOT, "%-40s%10s%n", label, value);
    }

    private static String center(String title) {
        int pad = Math.max(0, WIDTH - title.length());
        char c = title.startsWith(" ") ? '=' : '-';
        return String.valueOf(c).repeat(pad / 2) + title + String.valueOf(c).repeat(pad - pad / 2);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}

package ai.arbor.cluster.bench;

import java.util.List;
import java.util.Map;

/**
 * The result of a benchmark run, as printed and as written to JSON. Latencies are in milliseconds; a distribution is
 * null when nothing was measured (no request succeeded, or none produced two tokens for TPOT).
 *
 * @param cachedTokenRatio prompt tokens served from the prefix cache over all prompt tokens, from
 *                         {@code usage.prompt_tokens_details.cached_tokens}
 * @param errors           failed requests by HTTP status or failure kind
 * @param errorExamples    the first message seen for each kind in {@code errors}
 * @param requests         one entry per request in send order, for plots and later analysis
 * @param serverMetrics    how the server's own counters ({@code /metrics}) grew during the run; null when the server
 *                         exposes none
 */
public record BenchReport(String url, String model, String endpoint, String dataset, int numPrompts, int concurrency,
                          double requestRate, String startedAt,
                          int completed, int failed, double durationSeconds,
                          long totalInputTokens, long totalOutputTokens, long cachedTokens, double cachedTokenRatio,
                          double requestThroughput, double outputThroughput, double totalTokenThroughput,
                          Distribution ttftMs, Distribution tpotMs, Distribution itlMs, Distribution e2eMs,
                          Map<String, Integer> errors, Map<String, String> errorExamples,
                          List<TimelinePoint> timeline, List<RequestSample> requests, double[] itlSamplesMs,
                          Map<String, Double> serverMetrics) {

    /**
     * One request, times in milliseconds since the run started ({@code sentMs}) or since the request was sent; -1
     * where not measured.
     */
    public record RequestSample(int index, boolean success, double sentMs, double ttftMs, double tpotMs, double e2eMs,
                                int promptTokens, int outputTokens, int cachedTokens, String error) {
    }
}

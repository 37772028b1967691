package ai.arbor.actors.metrics;

/**
 * Prometheus histogram buckets per metric, keyed by Kamon metric name. Time values are in seconds (the reporter
 * converts Kamon's nanoseconds). Chosen to span what each quantity really takes: TTFT from 1 ms (a cached short
 * prompt) to 60 s (a long prefill behind a queue), ITL from 0.1 ms to 10 s.
 */
final class Buckets {
    private Buckets() {}

    static final String TTFT = "[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60]";
    static final String ITL = "[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]";
    static final String REQUEST = "[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]";
    static final String TOKENS = "[1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]";
    static final String STEP = "[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]";
    static final String BATCH = "[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]";
    static final String OVERHEAD = "[0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1]";

    static final String HOCON = "kamon.prometheus.buckets.custom {\n"
            + q(FrontendMetrics.TTFT) + " = " + TTFT + "\n"
            + q(FrontendMetrics.ITL) + " = " + ITL + "\n"
            + q(FrontendMetrics.DURATION) + " = " + REQUEST + "\n"
            + q(FrontendMetrics.INPUT_TOKENS) + " = " + TOKENS + "\n"
            + q(FrontendMetrics.OUTPUT_TOKENS) + " = " + TOKENS + "\n"
            + q(FrontendMetrics.CACHED_TOKENS) + " = " + TOKENS + "\n"
            + q(WorkerMetrics.STEP_DURATION) + " = " + STEP + "\n"
            + q(WorkerMetrics.BATCH_SIZE) + " = " + BATCH + "\n"
            + q(RouterMetrics.OVERHEAD) + " = " + OVERHEAD + "\n"
            + "}\n";

    private static String q(String name) { return "\"" + name + "\""; }
}

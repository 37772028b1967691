package ai.arbor.cluster.serve.overhead;

import ai.arbor.config.ArborConfig;
import ai.arbor.cluster.serve.LoadedModel;
import ai.arbor.config.ArborSettings;
import java.util.Map;

/**
 * The serving path's own overhead, in two parts and a floor to compare with (BENCHMARKS.md defines them):
 *
 * <ol>
 *   <li><b>throughput</b>: {@code arbor serve}'s path with an engine that answers every step instantly, driven by
 *       closed-loop clients at concurrency 1 and N: requests/s, whole-request latency and CPU per request. Everything
 *       measured is serving path, so this is its capacity;
 *   <li><b>added latency</b>: the same path with the engine paced like a real one (one decode step for the whole batch
 *       every {@code stepMs}) and N concurrent streams: the client's TTFT, ITL and end-to-end latency minus what the
 *       engine itself took, by the engine's own timestamps.
 *   <li><b>floor</b>: token → client with no server at all, for comparison (see {@code DeliveryFloor}).
 * </ol>
 * The model's real tokenizer and chat template are used; clients run in the same JVM, so they share one clock with
 * the engine (and the server's two cores).
 *
 * <p>Usage: {@code OverheadBenchmark [concurrency=64] [seconds=15] [maxTokens=16] [model=models/tiny-qwen2] [stepMs=20]
 * [parts=instant,paced,floor]} ({@code parts} picks parts, e.g. to profile it; {@code paced-n}: the paced part at
 * concurrency N only).
 */
public final class OverheadBenchmark {
    private OverheadBenchmark() {}

    public static void main(String[] args) throws Exception {
        int concurrency = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        String model = args.length > 3 ? args[3] : "models/tiny-qwen2";
        double stepMs = args.length > 4 ? Double.parseDouble(args[4]) : 20;
        String parts = args.length > 5 ? args[5] : "instant,paced,floor";
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.device", "synthetic",
                "arbor.model", model, "arbor.frontend.max-queued-requests", 100_000), null, System.getenv()));
        try (LoadedModel loaded = LoadedModel.load(s, System.err)) {
            new OverheadRuns(s, loaded.spec(), concurrency, seconds, maxTokens, stepMs, System.out, System.err)
                    .run(parts.contains("instant"), parts.contains("paced"), parts.contains("paced-n"),
                            parts.contains("floor"));
        }
        System.exit(0);
    }
}

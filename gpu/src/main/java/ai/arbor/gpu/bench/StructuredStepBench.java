package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.EngineRequest;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.engine.RequestOutput;
import ai.arbor.gpu.engine.RequestSink;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.sample.SamplingParams;
import ai.arbor.structured.OutputConstraint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What structured outputs add to a decode step on the CPU path: the same engine steps with every row sampled freely,
 * then with every row under a constraint (mask lookup, mask applied to the logits, automaton advanced). Only steps
 * whose batch holds all rows count, after warm-up steps that also fill the per-state mask caches.
 *
 * <pre>
 * StructuredStepBench [--model DIR] [--threads N] [--rows 64] [--steps 60] [--repeats 3]
 * </pre>
 */
public final class StructuredStepBench {
    private static final int WARMUP = 24;
    /** Never finishes and leaves a mixed mask (letters, spaces) at every step. */
    private static final OutputConstraint WORDS = OutputConstraint.regex("([a-z]+ )*");
    /** A JSON document that stays open while the model writes its long string. */
    private static final OutputConstraint JSON = OutputConstraint.jsonSchema("""
            {"type":"object","properties":{"id":{"type":"integer"},"story":{"type":"string"}},"required":["id","story"]}""");

    private StructuredStepBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("models/tiny-qwen2");
        int threads = Runtime.getRuntime().availableProcessors();
        int rows = 64;
        int steps = 60;
        int repeats = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model" -> dir = Path.of(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--rows" -> rows = Integer.parseInt(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --model --threads --rows --steps --repeats)");
            }
        }
        try (HfModel model = HfModel.load(dir)) {
            System.out.printf(Locale.ROOT, "%s, %d rows, %d threads, %d timed steps after %d warm-up, %d repeats%n",
                    dir.getFileName(), rows, threads, steps, WARMUP, repeats);
            double[][] ms = new double[3][repeats];
            for (int r = 0; r < repeats; r++) {
                ms[0][r] = run(model, threads, rows, steps, null, r);
                ms[1][r] = run(model, threads, rows, steps, WORDS, r);
                ms[2][r] = run(model, threads, rows, steps, JSON, r);
                System.out.printf(Locale.ROOT, "  repeat %d: free %.3f ms/step, regex %.3f, json_schema %.3f%n", r + 1,
                        ms[0][r], ms[1][r], ms[2][r]);
            }
            double free = median(ms[0]);
            System.out.println("| rows | free ms/step | regex ms/step | regex added | json_schema ms/step | json_schema added |");
            System.out.println("|---|---|---|---|---|---|");
            System.out.printf(Locale.ROOT, "| %d | %.3f | %.3f | %+.1f%% | %.3f | %+.1f%% |%n", rows, free, median(ms[1]),
                    100 * (median(ms[1]) / free - 1), median(ms[2]), 100 * (median(ms[2]) / free - 1));
        }
    }

    /** Mean milliseconds per step over the timed steps that ran every row. */
    private static double run(HfModel model, int threads, int rows, int steps, OutputConstraint c, int seed) {
        EngineConfig config = new EngineConfig(16, 0, rows, Math.max(2048, rows * 32), 0, false, 256L << 20);
        try (LLMEngine engine = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), threads), config)) {
            int[] prompt = model.tokenizer().encodeNoSpecial("Once upon a time, in a fortune cookie, there was");
            for (int i = 0; i < rows; i++) {
                SamplingParams p = new SamplingParams(1.0, 1, 0, 0, (long) (seed * 1000 + i), 0, 0, 1,
                        WARMUP + steps + 8, 0, true, new int[0], List.of(), null, c);
                engine.addRequest(new EngineRequest("r" + i, prompt, p), DISCARD);
            }
            for (int s = 0; s < WARMUP; s++) engine.step();
            long total = 0;
            int counted = 0;
            for (int s = 0; s < steps; s++) {
                long t0 = System.nanoTime();
                engine.step();
                long dt = System.nanoTime() - t0;
                if (engine.stats().lastBatchSize() == rows) {
                    total += dt;
                    counted++;
                }
            }
            if (counted == 0) throw new IllegalStateException("no timed step ran all " + rows + " rows");
            return total / 1e6 / counted;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static final RequestSink DISCARD = new RequestSink() {
        @Override
        public void onOutput(RequestOutput out) {}
    };
}

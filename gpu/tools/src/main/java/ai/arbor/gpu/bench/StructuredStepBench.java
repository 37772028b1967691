package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.backend.cuda.CudaBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.OutputConstraint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * What structured outputs add to a decode step: the same engine steps with every row sampled freely, then with every
 * row under a constraint (mask lookup and automaton advance on the host; on the CPU path the mask applied in the Java
 * sampler, on CUDA uploaded as a bitmask and applied by the device sampler). Only steps whose batch holds all rows
 * count, after warm-up steps that also fill the per-state mask caches. On CUDA the modes run one after another (one
 * engine at a time holds the GPU); on the CPU they are interleaved step by step so that load from other processes falls
 * on all of them alike.
 *
 * <pre>
 * StructuredStepBench [--model DIR] [--device cpu|cuda] [--threads N] [--rows 64] [--steps 60] [--repeats 3]
 * </pre>
 */
public final class StructuredStepBench {
    private static final int WARMUP = 24;
    /** Never finishes and leaves a mixed mask (letters, spaces) at every step. */
    private static final OutputConstraint WORDS = OutputConstraint.regex("([a-z]+ )*");
    /**
     * A JSON document too long to finish within the run (at least 40 objects), so every row stays constrained; each
     * object index is its own set of automaton states, so timed steps keep meeting states whose masks are not cached.
     */
    private static final OutputConstraint JSON = OutputConstraint.jsonSchema("""
            {"type":"array","minItems":40,"items":{"type":"object","properties":{"id":{"type":"integer"},
             "name":{"type":"string","maxLength":12},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":3}},
             "required":["id","name"]}}""");

    private StructuredStepBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("models/tiny-qwen2");
        int threads = Runtime.getRuntime().availableProcessors();
        int rows = 64;
        int steps = 60;
        int repeats = 3;
        String device = "cpu";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model" -> dir = Path.of(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--rows" -> rows = Integer.parseInt(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
                case "--device" -> device = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --model --device --threads --rows --steps --repeats)");
            }
        }
        try (HfModel model = HfModel.load(dir)) {
            boolean cuda = switch (device) {
                case "cpu" -> false;
                case "cuda" -> true;
                default -> throw new IllegalArgumentException("--device must be cpu or cuda, got " + device);
            };
            int cpuThreads = threads;
            Supplier<ComputeBackend> backend = cuda
                    ? () -> new CudaBackend(model.config(), model.weights(), 0, 0.9)
                    : () -> new CpuBackend(model.config(), model.weights(), cpuThreads, 256L << 20);
            System.out.printf(Locale.ROOT, "%s on %s, %d rows, %d threads, %d timed steps after %d warm-up, %d repeats%n",
                    dir.getFileName(), device, rows, threads, steps, WARMUP, repeats);
            OutputConstraint[] modes = {null, WORDS, JSON};
            double[][] perStep = new double[modes.length][];
            for (int m = 0; m < modes.length; m++) perStep[m] = new double[0];
            for (int r = 0; r < repeats; r++) {
                double[][] t = new double[modes.length][];
                if (cuda) {
                    for (int m = 0; m < modes.length; m++) {
                        t[m] = interleaved(model, backend, rows, steps, new OutputConstraint[] {modes[m]}, r)[0];
                    }
                } else {
                    t = interleaved(model, backend, rows, steps, modes, r);
                }
                for (int m = 0; m < modes.length; m++) perStep[m] = concat(perStep[m], t[m]);
                System.out.printf(Locale.ROOT, "  repeat %d: median free %.3f ms/step, regex %.3f, json_schema %.3f%n",
                        r + 1, median(t[0]), median(t[1]), median(t[2]));
            }
            double free = median(perStep[0]);
            System.out.println("| rows | free ms/step | regex ms/step | regex added | json_schema ms/step | json_schema added |");
            System.out.println("|---|---|---|---|---|---|");
            System.out.printf(Locale.ROOT, "| %d | %.3f | %.3f | %+.1f%% | %.3f | %+.1f%% |%n", rows, free,
                    median(perStep[1]), 100 * (median(perStep[1]) / free - 1), median(perStep[2]),
                    100 * (median(perStep[2]) / free - 1));
        }
    }

    /**
     * One engine per mode, stepped in turn (free, regex, JSON, free, ...); returns each mode's step times (ms) over the
     * timed steps that ran every row.
     */
    private static double[][] interleaved(HfModel model, Supplier<ComputeBackend> backend, int rows, int steps,
                                          OutputConstraint[] modes, int seed) {
        EngineConfig config = new EngineConfig(16, 0, rows, Math.max(2048, rows * 32), 0, false, 256L << 20);
        LLMEngine[] engines = new LLMEngine[modes.length];
        double[][] times = new double[modes.length][steps];
        int[] counted = new int[modes.length];
        try {
            int[] prompt = model.tokenizer().encodeNoSpecial("Once upon a time, in a fortune cookie, there was");
            for (int m = 0; m < modes.length; m++) {
                engines[m] = new LLMEngine(model, backend.get(), config);
                for (int i = 0; i < rows; i++) {
                    SamplingParams p = new SamplingParams(1.0, 1, 0, 0, (long) (seed * 1000 + i), 0, 0, 1,
                            WARMUP + steps + 8, 0, true, new int[0], List.of(), null, modes[m]);
                    engines[m].addRequest(new EngineRequest("r" + i, prompt, p), DISCARD);
                }
            }
            for (int s = 0; s < WARMUP; s++) for (LLMEngine e : engines) e.step();
            for (int s = 0; s < steps; s++) {
                for (int m = 0; m < modes.length; m++) {
                    long t0 = System.nanoTime();
                    engines[m].step();
                    long dt = System.nanoTime() - t0;
                    if (engines[m].stats().lastBatchSize() == rows) times[m][counted[m]++] = dt / 1e6;
                }
            }
        } finally {
            for (LLMEngine e : engines) if (e != null) e.close();
        }
        for (int m = 0; m < modes.length; m++) {
            if (counted[m] == 0) throw new IllegalStateException("mode " + m + ": no timed step ran all " + rows + " rows");
            times[m] = Arrays.copyOf(times[m], counted[m]);
        }
        return times;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
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

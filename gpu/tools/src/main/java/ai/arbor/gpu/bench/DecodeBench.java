package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decode throughput of the CPU backend at several batch sizes, next to the memory-bandwidth roofline (bandwidth /
 * weight bytes: a decode step must stream every weight once). Models: the tiny checkpoint and a random-weight model
 * of Qwen2.5-0.5B's shape, generated on first use into a scratch directory.
 *
 * <pre>
 * DecodeBench [--tiny DIR] [--qwen05b DIR] [--threads N] [--batches 1,8] [--steps N] [--prompt N] [--repeats N]
 * </pre>
 */
public final class DecodeBench {
    private DecodeBench() {}

    public static void main(String[] args) throws Exception {
        Path tiny = Path.of("models/tiny-qwen2");
        Path qwen = Path.of("target/bench-models/qwen2.5-0.5b-random");
        int threads = Runtime.getRuntime().availableProcessors();
        int[] batches = {1, 8};
        int steps = 32;
        int prompt = 32;
        int repeats = 2;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--tiny" -> { tiny = Path.of(need(a, v)); i++; }
                case "--qwen05b" -> { qwen = Path.of(need(a, v)); i++; }
                case "--threads" -> { threads = Integer.parseInt(need(a, v)); i++; }
                case "--batches" -> {
                    String[] parts = need(a, v).split(",");
                    batches = new int[parts.length];
                    for (int k = 0; k < parts.length; k++) batches[k] = Integer.parseInt(parts[k].trim());
                    i++;
                }
                case "--steps" -> { steps = Integer.parseInt(need(a, v)); i++; }
                case "--prompt" -> { prompt = Integer.parseInt(need(a, v)); i++; }
                case "--repeats" -> { repeats = Integer.parseInt(need(a, v)); i++; }
                default -> throw new IllegalArgumentException("unknown option " + a
                        + " (known: --tiny --qwen05b --threads --batches --steps --prompt --repeats)");
            }
        }

        if (!Files.isRegularFile(qwen.resolve("model.safetensors"))) {
            System.out.println("generating random Qwen2.5-0.5B-shaped checkpoint in " + qwen + " ...");
            RandomCheckpoint.write(qwen, RandomCheckpoint.qwen25HalfB(), tiny, 42);
        }

        double bandwidth = MemoryBandwidth.measure(threads, 1L << 30, 5);
        System.out.printf(Locale.ROOT, "memory read bandwidth (%d threads, 1 GiB, best of 5): %.1f GB/s%n",
                threads, bandwidth / 1e9);

        List<Object[]> results = new ArrayList<>();
        for (Path dir : List.of(tiny, qwen)) {
            try (HfModel model = HfModel.load(dir);
                 CpuBackend backend = new CpuBackend(model.config(), model.weights(), threads, 256L << 20)) {
                long bytes = backend.weightBytes();
                for (int batch : batches) {
                    DecodeRun.Result best = null;
                    for (int r = 0; r < repeats; r++) {
                        DecodeRun.Result res = DecodeRun.run(backend, model.config().vocabSize(), batch, prompt,
                                4, steps, 7 + r);
                        System.out.printf(Locale.ROOT, "  %s batch %d run %d: %.1f tok/s%n",
                                dir.getFileName(), batch, r + 1, res.tokensPerSecond());
                        if (best == null || res.tokensPerSecond() > best.tokensPerSecond()) best = res;
                    }
                    results.add(new Object[]{dir.getFileName().toString(), bytes, batch, best});
                }
            }
        }
        // Other processes share the machine: the roofline uses the best bandwidth seen before and after the runs.
        double after = MemoryBandwidth.measure(threads, 1L << 30, 5);
        System.out.printf(Locale.ROOT, "memory read bandwidth after the runs: %.1f GB/s%n", after / 1e9);
        bandwidth = Math.max(bandwidth, after);
        System.out.println();
        System.out.printf(Locale.ROOT, "threads %d, bandwidth %.1f GB/s, prompt %d tokens, %d timed steps, best of %d%n",
                threads, bandwidth / 1e9, prompt, steps, repeats);
        System.out.println("| model | weight bytes | batch | decode tok/s | ms/step | roofline tok/s | of roofline |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Object[] r : results) {
            long bytes = (long) r[1];
            int batch = (int) r[2];
            DecodeRun.Result best = (DecodeRun.Result) r[3];
            double roofline = bandwidth / bytes * batch;
            System.out.printf(Locale.ROOT, "| %s | %.1f MB | %d | %.1f | %.1f | %.1f | %.0f%% |%n", r[0], bytes / 1e6,
                    batch, best.tokensPerSecond(), 1000.0 * batch / best.tokensPerSecond(), roofline,
                    100 * best.tokensPerSecond() / roofline);
        }
    }

    private static String need(String option, String value) {
        if (value == null) throw new IllegalArgumentException(option + " needs a value");
        return value;
    }
}

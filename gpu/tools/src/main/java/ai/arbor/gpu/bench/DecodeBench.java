package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.model.quant.Quantization;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Decode throughput of the CPU backend at several batch sizes, next to the memory-bandwidth roofline (bandwidth /
 * weight bytes: a decode step must stream every weight once). Models: the tiny checkpoint and a random-weight model
 * of Qwen2.5-0.5B's shape, generated on first use into a scratch directory. Run as {@code gpu-tools decode-bench} or
 * by this class's name ({@code tools/bench_cpu.sh}).
 */
@Command(name = "decode-bench", mixinStandardHelpOptions = true,
        description = "Decode tok/s of the CPU backend at several batch sizes next to the memory-bandwidth roofline.")
public final class DecodeBench implements Callable<Integer> {

    @Option(names = "--tiny", defaultValue = "models/tiny-qwen2",
            description = "the tiny checkpoint (default ${DEFAULT-VALUE})")
    Path tiny;

    @Option(names = "--qwen05b", defaultValue = "target/bench-models/qwen2.5-0.5b-random",
            description = "where the random Qwen2.5-0.5B-shaped checkpoint is (generated there when missing)")
    Path qwen;

    @Option(names = "--threads", description = "compute threads (default: one per processor)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--batches", defaultValue = "1,8", split = ",", description = "batch sizes (default ${DEFAULT-VALUE})")
    int[] batches;

    @Option(names = "--steps", defaultValue = "32", description = "timed decode steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--prompt", defaultValue = "32", description = "prompt tokens (default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--quantization", defaultValue = "NONE", split = ",",
            description = "weight formats to measure, each in turn: NONE, FP8 (default ${DEFAULT-VALUE})")
    Quantization[] quantizations;

    @Option(names = "--skip-qwen05b", description = "only the tiny checkpoint")
    boolean skipQwen;

    @Option(names = "--repeats", defaultValue = "2",
            description = "runs per batch size, the best counts (default ${DEFAULT-VALUE})")
    int repeats;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DecodeBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (!skipQwen && !Files.isRegularFile(qwen.resolve("model.safetensors"))) {
            System.out.println("generating random Qwen2.5-0.5B-shaped checkpoint in " + qwen + " ...");
            RandomCheckpoint.write(qwen, RandomCheckpoint.qwen25HalfB(), tiny, 42);
        }

        double bandwidth = MemoryBandwidth.measure(threads, 1L << 30, 5);
        System.out.printf(Locale.ROOT, "memory read bandwidth (%d threads, 1 GiB, best of 5): %.1f GB/s%n",
                threads, bandwidth / 1e9);

        List<Object[]> results = new ArrayList<>();
        for (Path dir : skipQwen ? List.of(tiny) : List.of(tiny, qwen)) {
            for (Quantization q : quantizations) {
                String name = dir.getFileName() + (q == Quantization.NONE ? "" : " " + q.name().toLowerCase(Locale.ROOT));
                try (HfModel model = HfModel.load(dir);
                     CpuBackend backend = new CpuBackend(model.config(), model.weights(), threads, 256L << 20, q)) {
                    long bytes = backend.weightBytes();
                    for (int batch : batches) {
                        DecodeRun.Result best = null;
                        for (int r = 0; r < repeats; r++) {
                            DecodeRun.Result res = DecodeRun.run(backend, model.config().vocabSize(), batch, prompt,
                                    4, steps, 7 + r);
                            System.out.printf(Locale.ROOT, "  %s batch %d run %d: %.1f tok/s%n",
                                    name, batch, r + 1, res.tokensPerSecond());
                            if (best == null || res.tokensPerSecond() > best.tokensPerSecond()) best = res;
                        }
                        results.add(new Object[]{name, bytes, batch, best});
                    }
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
        return 0;
    }
}

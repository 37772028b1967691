package ai.arbor.gpu.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The benchmark's batch-64 sweep (-Darbor.bench.sweep=1): stream_gemm's weight-load hints (L2 256-byte prefetch,
 * evict_first), the grouped attention's query-head parts and the tensor-core attention
 * (-Darbor.bench.sweepMma=false leaves the latter out). Decode tok/s of every configuration in turns on one warm GPU
 * (3 rounds), then the best hint with the best attention against the baseline (3 more rounds), graph-timed matmuls per
 * hint and attention per variant with a kernel check against the per-head kernel, and batches 1, 8 and 32 with the
 * baseline and the best (2 rounds). Leaves the best batch-64 configuration set on the backend.
 */
final class HintSweep {
    private HintSweep() {}

    /** A configuration: gemm hint (0..3), attention parts (1, 2), tensor-core attention. */
    private record Config(int hint, int parts, boolean mma) {
        @Override
        public String toString() { return "gemm hint " + hint + ", attention " + (mma ? "mma" : "parts " + parts); }
    }

    static void run(CudaBackend gpu, int steps, int perSeq, SplittableRandom rnd) {
        int b = 64;
        boolean withMma = !"false".equals(System.getProperty("arbor.bench.sweepMma"));
        Config base = new Config(0, 1, false);
        List<Config> configs = new ArrayList<>(List.of(base, new Config(1, 1, false), new Config(2, 1, false),
                new Config(3, 1, false), new Config(0, 2, false)));
        if (withMma) configs.add(new Config(0, 1, true));
        CudaBenchmark.decode(gpu, b, steps, perSeq, rnd, true); // warm-up
        double[] mean = rounds(gpu, configs, b, steps, perSeq, rnd, 3);

        int bestHint = 0;
        for (int i = 1; i <= 3; i++) if (mean[i] > mean[bestHint]) bestHint = i;
        int bestAttention = 0; // index into configs: 0 (baseline attention), 4 (parts 2) or 5 (mma)
        for (int i = 4; i < configs.size(); i++) if (mean[i] > mean[bestAttention]) bestAttention = i;
        Config combined = new Config(configs.get(bestHint).hint(), configs.get(bestAttention).parts(),
                configs.get(bestAttention).mma());
        double[] again = rounds(gpu, List.of(base, combined), b, steps, perSeq, rnd, 3);
        Config best = again[1] > again[0] ? combined : base;
        System.out.printf("best at batch 64: %s%n", best);

        String[] names = {"q/k/v", "o", "gate/up", "down", "lm_head"};
        for (int hint = 0; hint <= 3; hint++) {
            set(gpu, new Config(hint, 1, false));
            double[] us = gpu.timeMatmuls(64, 20);
            StringBuilder line = new StringBuilder("matmuls at 64 rows, gemm hint " + hint + " (graph-timed us):");
            for (int i = 0; i < us.length; i++) line.append(String.format(" %s %.1f;", names[i], us[i]));
            System.out.println(line);
        }
        for (int i : withMma ? new int[]{0, 4, 5} : new int[]{0, 4}) {
            set(gpu, configs.get(i));
            CudaBenchmark.decode(gpu, b, 4, perSeq, rnd, true); // the last step's inputs at 64 rows
            System.out.print(configs.get(i) + ": " + gpu.timeAttention());
            System.out.printf("kernel check, %s: max |grouped - per-head| / max |per-head| %.1e%n", configs.get(i),
                    gpu.compareAttention());
        }

        for (int rows : new int[]{1, 8, 32}) {
            double[][] t = new double[2][2];
            for (int round = 0; round < 2; round++) {
                for (int k = 0; k < 2; k++) {
                    set(gpu, k == 0 ? base : best);
                    t[k][round] = CudaBenchmark.decode(gpu, rows, steps, perSeq, rnd, true);
                }
            }
            System.out.printf("decode b=%d: baseline %.0f / %.0f, best (%s) %.0f / %.0f tok/s%n", rows, t[0][0], t[0][1],
                    best, t[1][0], t[1][1]);
        }
        set(gpu, best);
    }

    /** Decode tok/s of each configuration in turns, {@code rounds} times; prints a table and returns the means. */
    private static double[] rounds(CudaBackend gpu, List<Config> configs, int b, int steps, int perSeq,
                                   SplittableRandom rnd, int rounds) {
        double[][] tps = new double[configs.size()][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < configs.size(); i++) {
                set(gpu, configs.get(i));
                tps[i][round] = CudaBenchmark.decode(gpu, b, steps, perSeq, rnd, true);
            }
        }
        double[] mean = new double[configs.size()];
        System.out.println("| configuration | decode b=" + b + " tok/s (in turns) | mean |");
        for (int i = 0; i < configs.size(); i++) {
            mean[i] = Arrays.stream(tps[i]).average().orElse(0);
            StringBuilder row = new StringBuilder("| " + configs.get(i) + " |");
            for (double v : tps[i]) row.append(String.format(" %.0f", v));
            System.out.println(row.append(String.format(" | %.0f |", mean[i])));
        }
        return mean;
    }

    private static void set(CudaBackend gpu, Config c) {
        gpu.setGemmHint(c.hint());
        gpu.setAttentionParts(c.parts());
        gpu.setAttentionMma(c.mma());
    }
}

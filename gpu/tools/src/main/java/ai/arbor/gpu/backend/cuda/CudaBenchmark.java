package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.quant.Quantization;
import ai.arbor.gpu.model.RopeScaling;
import ai.arbor.gpu.protocol.SamplingParams;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static jcuda.driver.JCudaDriver.*;

/**
 * Decode and prefill throughput of the CUDA backend with random BF16 weights in Qwen2.5-1.5B's shape, next to the
 * device's measured copy bandwidth (the roofline for batch-1 decode: every weight byte read once per token), and the
 * GB/s of KV block copies to and from the host ({@link KvCopyBench}).
 * Usage: {@code CudaBenchmark [decodeSteps] [batch sizes, comma-separated] [prefill tokens]}.
 */
public final class CudaBenchmark {
    private static final int BLOCK = 16;
    private static final int PROMPT = 128;

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int[] batches = args.length > 1 ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[]{1, 8, 32, 64};
        int prefill = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        ModelConfig c = new ModelConfig(Architecture.QWEN2, 151936, 1536, 8960, 28, 12, 2, 128, 32768, 1e-6, 1e6,
                RopeScaling.DEFAULT, true, true, false, DType.BF16);
        long t0 = System.nanoTime();
        try (CudaBackend gpu = new CudaBackend(c, new RandomWeights(c, 42), 0, 0.9)) {
            System.out.printf("device %s (%s), random Qwen2.5-1.5B-shape weights: %.3f GB of matrices, loaded in %.1f s%n",
                    gpu.name(), gpu.deviceName(), gpu.weightBytes() / 1e9, (System.nanoTime() - t0) / 1e9);
            double bw = copyBandwidth(gpu.device());
            double roof = bw / gpu.weightBytes();
            System.out.printf("device-to-device copy: %.0f GB/s (read + write) -> batch-1 decode roofline %.0f tok/s%n",
                    bw / 1e9, roof);
            int maxBatch = Arrays.stream(batches).max().orElse(1);
            int perSeq = (PROMPT + steps + 16) / BLOCK + 2;
            int prefillBlocks = (prefill + BLOCK - 1) / BLOCK + 1;
            gpu.allocateKvCache(maxBatch * perSeq + prefillBlocks, BLOCK);
            List<String> rows = new ArrayList<>();
            // the host tier's and transfers' block copies: per-block path vs the batched pinned path
            rows.addAll(KvCopyBench.run(gpu, maxBatch * perSeq + prefillBlocks, 1000));
            SplittableRandom rnd = new SplittableRandom(7);
            if (System.getProperty("arbor.bench.sweep") != null) {
                HintSweep.run(gpu, steps, perSeq, rnd); // leaves the best configuration set
                if (System.getProperty("arbor.bench.sweepThenBench") == null) return;
            }
            for (int b : batches) {
                double tps = decode(gpu, b, steps, perSeq, rnd, true);
                System.out.print(KernelLab.timeAttention(gpu));
                String extra;
                if (b <= 2) {
                    double eager = decode(gpu, b, Math.min(steps, 32), perSeq, rnd, false);
                    gpu.setTuning(gpu.tuning().withSmallBatchFusion(false, true, true));
                    double unfused = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withSmallBatchFusion(true, true, true));
                    gpu.setTuning(gpu.tuning().withSmallBatchFusion(true, false, false));
                    double separate = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withSmallBatchFusion(true, false, true));
                    double ropeOnly = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withSmallBatchFusion(true, true, false));
                    double normOnly = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withSmallBatchFusion(true, true, true));
                    gpu.setTuning(gpu.tuning().withSplitArgmax(false));
                    double oneBlockArgmax = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withSplitArgmax(true));
                    gpu.setTuning(gpu.tuning().withGemv(4, 0));
                    double split4 = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withGemv(8, 0));
                    double split8 = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withGemv(16, 0));
                    double[] prefetch = new double[PREFETCH_MIB.length];
                    for (int i = 0; i < prefetch.length; i++) {
                        gpu.setTuning(gpu.tuning().withL2PrefetchMib(PREFETCH_MIB[i]));
                        prefetch[i] = decode(gpu, b, steps, perSeq, rnd, true);
                    }
                    gpu.setTuning(gpu.tuning().withL2PrefetchMib(0));
                    String programmatic = programmatic(gpu, b, steps, perSeq, rnd);
                    double again = decode(gpu, b, steps, perSeq, rnd, true);
                    extra = String.format(" (without CUDA graphs: %.0f tok/s; SwiGLU not fused into the gate/up gemv: %.0f tok/s;"
                            + " rmsnorm and rope_kv_write as own kernels: %.0f, only RoPE fused: %.0f, only the norm fused: %.0f;"
                            + " argmax in one block per row: %.0f; gemv split for 4 blocks/SM (down_proj 4 warps a row): %.0f,"
                            + " for 8 (down_proj 8, gate/up 1): %.0f; L2 prefetch during attention of %s MiB: %s;"
                            + " programmatic dependent launch: %s; all again: %.0f tok/s)", eager, unfused, separate,
                            ropeOnly, normOnly, oneBlockArgmax, split4, split8, Arrays.toString(PREFETCH_MIB),
                            Arrays.toString(Arrays.stream(prefetch).mapToLong(Math::round).toArray()), programmatic,
                            again);
                } else {
                    System.out.printf("kernel check, batch %d: max |grouped attention - per-head| / max |per-head| %.1e%n",
                            b, KernelLab.compareAttention(gpu));
                    gpu.setTuning(gpu.tuning().withBatchKernel("tile"));
                    gpu.setTuning(gpu.tuning().withGroupedAttention(false));
                    double tile = decode(gpu, b, steps, perSeq, rnd, true);
                    gpu.setTuning(gpu.tuning().withBatchKernel("gemm"));
                    gpu.setTuning(gpu.tuning().withGroupedAttention(true));
                    extra = String.format(" (previous kernels, matmul_tile and per-head attention: %.0f tok/s", tile);
                    if (gpu.device().hopper) { // every matmul of 3+ rows through the wgmma GEMM's plan, against the default
                        CudaTuning before = gpu.tuning();
                        gpu.setTuning(before.withHopperGemm(3, true));
                        double wgmma = decode(gpu, b, steps, perSeq, rnd, true, true);
                        gpu.setTuning(before.withL2PrefetchMib(32));
                        double prefetch = decode(gpu, b, steps, perSeq, rnd, true);
                        gpu.setTuning(before);
                        String programmatic = programmatic(gpu, b, steps, perSeq, rnd);
                        double again = decode(gpu, b, steps, perSeq, rnd, true, true);
                        extra += String.format("; wgmma GEMM from 3 rows: %.0f tok/s, L2 prefetch of 32 MiB during"
                                + " attention: %.0f, programmatic dependent launch: %s, default again: %.0f", wgmma,
                                prefetch, programmatic, again);
                    }
                    extra += ")";
                }
                rows.add(String.format("| decode, batch %d | %.0f tok/s | %.2f ms/step | %.0f%% of roofline%s |", b, tps,
                        1000.0 * b / tps, 100 * tps / (roof * b), extra));
                System.out.println(rows.get(rows.size() - 1));
            }
            if (maxBatch >= 64) { // the eager steps serve runs beside graph-replayed decode
                for (String r : StepShapesBench.run(gpu, tables(64, perSeq), PROMPT, PROMPT, rnd)) System.out.println(r);
            }
            // the device sampler against its host model on this vocabulary (152k), every parameter in one batch
            List<SequenceChunk> probe = new ArrayList<>();
            for (int s = 0; s < 4; s++) {
                int[] t = new int[perSeq];
                for (int i = 0; i < perSeq; i++) t[i] = s * perSeq + i;
                probe.add(new SequenceChunk(rnd.ints(PROMPT, 0, c.vocabSize()).toArray(), 0, t, true));
            }
            gpu.forward(new ForwardBatch(probe));
            SamplingCheck.run(gpu, gpu.lastLogits(probe.size()), probe.size(), System.out);
            String[] names = {"q/k/v 1536x2048", "o 1536x1536", "gate/up 1536x17920", "down 8960x1536", "lm_head 1536x151936"};
            long[] bytes = {2L * 1536 * 2048, 2L * 1536 * 1536, 2L * 1536 * 17920, 2L * 8960 * 1536, 2L * 1536 * 151936};
            System.out.println("| matmul (bf16 weights; GPU time of 20 calls replayed from a CUDA graph) | rows | kernel | us | weight GB/s |");
            CudaTuning plain = gpu.tuning();
            for (int n : new int[]{1, 8, 32, 64, 256}) {
                for (String kernel : new String[]{"gemm", "tile", "wgmma"}) {
                    if (!kernel.equals("gemm") && n <= 2 || kernel.equals("wgmma") && !gpu.device().hopper) continue;
                    gpu.setTuning(kernel.equals("wgmma") ? plain.withHopperGemm(3, true)
                            : plain.withBatchKernel(kernel).withHopperGemm(0, true));
                    double[] us = KernelLab.timeMatmuls(gpu, n, 20);
                    for (int i = 0; i < us.length; i++) {
                        if (us[i] > 0) System.out.printf("| %s | %d | %s | %.1f | %.0f |%n", names[i], n,
                                n <= 2 ? "gemv" : kernel.equals("gemm") ? "stream_gemm" : kernel.equals("wgmma")
                                        ? "wgmma" : n > 64 ? "mma64" : "tile",
                                us[i], bytes[i] / us[i] / 1e3);
                    }
                }
            }
            gpu.setTuning(plain);
            System.out.print(KernelLab.compareStreamVariants(gpu, 20));
            for (int n : new int[]{3, 8, 13, 24, 40, 64, 200}) {
                double[] rel = KernelLab.compareBatchKernels(gpu, n, n);
                System.out.printf("kernel check, %d rows: max |stream_gemm - previous| / max |previous| per shape %s%n", n,
                        Arrays.toString(Arrays.stream(rel).mapToObj(v -> String.format("%.1e", v)).toArray()));
            }
            int[] table = new int[prefillBlocks];
            for (int i = 0; i < table.length; i++) table[i] = maxBatch * perSeq + i;
            int[] tokens = rnd.ints(prefill, 0, c.vocabSize()).toArray();
            // "gemm": stream_gemm alone; "wgmma" / "wgmma_hi": hopper_gemm.cu from 256 rows on (hi + lo / hi-only x;
            // the same as "gemm" where the GPU is not compute capability 9.0)
            CudaTuning tuned = gpu.tuning();
            // "flash": the tiled prefill attention (attention_prefill.cu) instead of a block per token, with wgmma
            // "tma": the wgmma GEMM's TMA-fed, warp-specialized kernels (Hopper only: elsewhere the same as "gemm")
            for (String kernel : new String[]{"tile", "gemm", "wgmma", "wgmma_hi", "flash", "tma"}) {
                boolean wgmma = kernel.startsWith("wgmma") || kernel.equals("flash") || kernel.equals("tma");
                if (kernel.equals("tma") && !(gpu.device().hopper && tmaChecks())) continue;
                gpu.setTuning(tuned.withBatchKernel(wgmma ? "gemm" : kernel)
                        .withHopperGemm(wgmma ? 256 : 0, !kernel.equals("wgmma_hi"))
                        .withFlashPrefillRows(kernel.equals("flash") ? 256 : 0)
                        .withHopperGemmTma(kernel.equals("tma")));
                double[] times = new double[4];
                for (int r = 0; r < times.length; r++) {
                    long s = System.nanoTime();
                    gpu.forwardGreedy(new ForwardBatch(List.of(new SequenceChunk(tokens, 0, table, true))));
                    times[r] = (System.nanoTime() - s) / 1e9;
                }
                double[] timed = Arrays.copyOfRange(times, 1, times.length);
                Arrays.sort(timed);
                rows.add(String.format("| prefill, one %d-token prompt (%s) | %.0f tok/s | %.1f ms | |", prefill,
                        kernel.equals("gemm") ? "stream_gemm" : kernel.equals("tile") ? "previous WMMA tiles"
                                : kernel.equals("wgmma") ? "wgmma GEMM, x as bf16 hi + lo"
                                : kernel.equals("flash") ? "wgmma GEMM hi + lo, tiled prefill attention"
                                : kernel.equals("tma") ? "wgmma GEMM hi + lo fed by TMA, warp-specialized"
                                : "wgmma GEMM, x as bf16",
                        prefill / timed[1], 1000 * timed[1]));
                System.out.println(rows.get(rows.size() - 1));
                if ((kernel.equals("wgmma") || kernel.equals("flash")) && gpu.device().hopper) { // where the time goes
                    try {
                        System.out.print(KernelLab.profileDecode(gpu,
                                new ForwardBatch(List.of(new SequenceChunk(tokens, 0, table, true)))));
                    } catch (RuntimeException e) {
                        System.out.println("profile failed: " + e);
                    }
                }
            }
            gpu.setTuning(tuned);
            System.out.println();
            System.out.printf("roofline: copy %.0f GB/s, weights %.3f GB -> %.0f tok/s at batch 1%n", bw / 1e9,
                    gpu.weightBytes() / 1e9, roof);
            for (int b : batches) {
                if (b != 1 && b != maxBatch) continue;
                SamplingParams greedy = params(0, 1, steps);
                SamplingParams sampled = params(0.7, 0.9, steps);
                double host = engineDecode(c, gpu, b, steps, rnd, false, greedy);
                double device = engineDecode(c, gpu, b, steps, rnd, true, greedy);
                double deviceSampled = engineDecode(c, gpu, b, steps, rnd, true, sampled);
                rows.add(String.format("| LLMEngine decode, batch %d: greedy, logits to host + Sampler / greedy on device "
                                + "/ temperature 0.7 top_p 0.9 on device | %.0f / %.0f / %.0f tok/s | %.2f / %.2f / %.2f ms/step | |",
                        b, host, device, deviceSampled, 1000.0 * b / host, 1000.0 * b / device, 1000.0 * b / deviceSampled));
                System.out.println(rows.get(rows.size() - 1));
            }
            System.out.println("| what | throughput | time | vs roofline |");
            System.out.println("|---|---|---|---|");
            for (String r : rows) System.out.println(r);
        }
        fp8(c, steps, batches, prefill);
    }

    /**
     * The same model with FP8 weights (--quantization fp8): decode at each batch size (one or two rows: the FP8 gemv;
     * more: each matrix widened to bf16 first) and the prefill. A second backend, after the first has let go of the GPU.
     */
    private static void fp8(ModelConfig c, int steps, int[] batches, int prefill) {
        long t0 = System.nanoTime();
        try (CudaBackend gpu = new CudaBackend(c, new RandomWeights(c, 42), 0, 0.9, true, false, StepLimits.DEFAULT,
                Quantization.FP8)) {
            System.out.printf("FP8 weights: %.3f GB on the device, loaded and quantized in %.1f s%n",
                    gpu.weightBytes() / 1e9, (System.nanoTime() - t0) / 1e9);
            int maxBatch = Arrays.stream(batches).max().orElse(1);
            int perSeq = (PROMPT + steps + 16) / BLOCK + 2;
            int prefillBlocks = (prefill + BLOCK - 1) / BLOCK + 1;
            gpu.allocateKvCache(maxBatch * perSeq + prefillBlocks, BLOCK);
            SplittableRandom rnd = new SplittableRandom(7);
            CudaTuning tuned = gpu.tuning();
            for (int b : batches) {
                double tps = decode(gpu, b, steps, perSeq, rnd, true, b == 1);
                String wgmma = "";
                if (b > 2 && gpu.device().hopper) { // the _w8 kernels read the codes; the default widens them first
                    gpu.setTuning(tuned.withHopperGemm(3, true));
                    wgmma = String.format(" (wgmma GEMM on the FP8 codes from 3 rows: %.0f tok/s)",
                            decode(gpu, b, steps, perSeq, rnd, true, true));
                    gpu.setTuning(tuned);
                }
                System.out.printf("| decode, batch %d, FP8 weights | %.0f tok/s | %.2f ms/step | %s|%n", b, tps,
                        1000.0 * b / tps, wgmma);
            }
            int[] table = new int[prefillBlocks];
            for (int i = 0; i < table.length; i++) table[i] = maxBatch * perSeq + i;
            int[] tokens = rnd.ints(prefill, 0, c.vocabSize()).toArray();
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 3; r++) {
                long s = System.nanoTime();
                gpu.forwardGreedy(new ForwardBatch(List.of(new SequenceChunk(tokens, 0, table, true))));
                if (r > 0) best = Math.min(best, (System.nanoTime() - s) / 1e9);
            }
            System.out.printf("| prefill, one %d-token prompt, FP8 weights | %.0f tok/s | %.1f ms | |%n", prefill,
                    prefill / best, 1000 * best);
        } catch (RuntimeException e) {
            System.out.println("FP8 weights: failed: " + e);
        }
    }

    /**
     * The whole engine (scheduler, KV manager, sampling) decoding b random 128-token prompts: tokens per second from
     * the second decode step on, sampled on the device or with the logits rows on the host.
     */
    private static SamplingParams params(double temperature, double topP, int steps) {
        return new SamplingParams(temperature, topP, 0, 0, null, 0, 0, 1, steps, 0, true, new int[0], List.of(), null);
    }

    private static double engineDecode(ModelConfig c, CudaBackend gpu, int b, int steps, SplittableRandom rnd,
                                       boolean onDevice, SamplingParams sampling) {
        gpu.setUseGraphs(true);
        int perSeq = (PROMPT + steps + BLOCK) / BLOCK + 1;
        EngineConfig ec = new EngineConfig(BLOCK, b * perSeq + 1, b, 2048, 0, false, 0);
        long[] produced = {0};
        try (LLMEngine engine = new LLMEngine(c, new int[0], new LentBackend(gpu), ec)) {
            engine.setSampleOnDevice(onDevice);
            for (int i = 0; i < b; i++) {
                engine.addRequest(new EngineRequest("r" + i, rnd.ints(PROMPT, 0, c.vocabSize()).toArray(), sampling),
                        o -> produced[0] += o.newTokenIds().length);
            }
            long t0 = 0, start = 0;
            while (engine.hasWork()) {
                engine.step();
                // From the second decode step: the first one captures the CUDA graphs anew (a new KV cache).
                if (t0 == 0 && produced[0] >= 2L * b) {
                    t0 = System.nanoTime();
                    start = produced[0];
                }
            }
            return (produced[0] - start) / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Whether the TMA-fed GEMM runs here (-Darbor.cuda.tmaChecks=false skips it: a kernel that hangs on its mbarriers
     * would hold the whole benchmark until its timeout; the gemm lab tries it first).
     */
    static boolean tmaChecks() {
        return !"false".equals(System.getProperty("arbor.cuda.tmaChecks"));
    }

    /**
     * Decode with the graphs' kernels launched with programmatic stream serialization (pdl.cuh), and whether its
     * tokens equal those of the tuning in use over the same steps (the launch order must not change a result).
     */
    private static String programmatic(CudaBackend gpu, int b, int steps, int perSeq, SplittableRandom rnd) {
        CudaTuning before = gpu.tuning();
        if (!gpu.device().hopper) return "-";
        try {
            long seed = rnd.nextLong();
            int[][] plain = greedyTokens(gpu, b, perSeq, seed);
            boolean repeatable = Arrays.deepEquals(plain, greedyTokens(gpu, b, perSeq, seed));
            gpu.setTuning(before.withProgrammaticLaunch(true));
            int[][] pdl = greedyTokens(gpu, b, perSeq, seed);
            double tps = decode(gpu, b, steps, perSeq, rnd, true);
            return String.format("%.0f tok/s, tokens %s%s", tps, Arrays.deepEquals(plain, pdl) ? "equal" : "DIFFER",
                    repeatable ? "" : " (the tuning in use does not repeat its own tokens either)");
        } catch (RuntimeException e) {
            return "failed: " + e.getMessage();
        } finally {
            gpu.setTuning(before);
        }
    }

    /** Prefills b prompts from {@code seed} and returns 16 greedy decode steps' tokens per sequence (graphs on). */
    private static int[][] greedyTokens(CudaBackend gpu, int b, int perSeq, long seed) {
        gpu.setUseGraphs(true);
        int[][] tables = tables(b, perSeq);
        int[] next = prefill(gpu, tables, new SplittableRandom(seed));
        int[][] out = new int[16][];
        for (int step = 0; step < out.length; step++) {
            List<SequenceChunk> chunks = new ArrayList<>(b);
            for (int s = 0; s < b; s++) chunks.add(new SequenceChunk(new int[]{next[s]}, PROMPT + step, tables[s], true));
            next = gpu.forwardGreedy(new ForwardBatch(chunks));
            out[step] = next;
        }
        return out;
    }

    /** Block tables of b sequences with perSeq blocks each, sequence s owning blocks s * perSeq onwards. */
    private static int[][] tables(int b, int perSeq) {
        int[][] tables = new int[b][perSeq];
        for (int s = 0; s < b; s++) for (int i = 0; i < perSeq; i++) tables[s][i] = s * perSeq + i;
        return tables;
    }

    /** Prefills one random 128-token prompt per table, 16 prompts a step; returns each sequence's first token. */
    private static int[] prefill(CudaBackend gpu, int[][] tables, SplittableRandom rnd) {
        int b = tables.length;
        int[] next = new int[b];
        for (int from = 0; from < b; from += 16) {
            List<SequenceChunk> chunks = new ArrayList<>();
            for (int s = from; s < Math.min(b, from + 16); s++) {
                chunks.add(new SequenceChunk(rnd.ints(PROMPT, 0, 151936).toArray(), 0, tables[s], true));
            }
            int[] ids = gpu.forwardGreedy(new ForwardBatch(chunks));
            System.arraycopy(ids, 0, next, from, ids.length);
        }
        return next;
    }

    /** Budgets of the L2 prefetch during attention the batch-1 line tries. */
    private static final int[] PREFETCH_MIB = {8, 16, 32};

    /** Prefills b random 128-token prompts, then times greedy decode steps (token ids only cross to the host). */
    static double decode(CudaBackend gpu, int b, int steps, int perSeq, SplittableRandom rnd, boolean graphs) {
        return decode(gpu, b, steps, perSeq, rnd, graphs, System.getProperty("arbor.bench.profile") != null);
    }

    /** {@link #decode}, then (profile) GPU time per kernel of one more step. */
    static double decode(CudaBackend gpu, int b, int steps, int perSeq, SplittableRandom rnd, boolean graphs,
                         boolean profile) {
        gpu.setUseGraphs(graphs);
        int[][] tables = tables(b, perSeq);
        int[] next = prefill(gpu, tables, rnd);
        int warm = 3;
        long start = 0;
        for (int step = 0; step < warm + steps; step++) {
            if (step == warm) start = System.nanoTime();
            List<SequenceChunk> chunks = new ArrayList<>(b);
            for (int s = 0; s < b; s++) chunks.add(new SequenceChunk(new int[]{next[s]}, PROMPT + step, tables[s], true));
            next = gpu.forwardGreedy(new ForwardBatch(chunks));
        }
        double secs = (System.nanoTime() - start) / 1e9;
        gpu.setUseGraphs(true);
        if (graphs && profile) {
            List<SequenceChunk> chunks = new ArrayList<>(b);
            for (int s = 0; s < b; s++) chunks.add(new SequenceChunk(new int[]{next[s]}, PROMPT + warm + steps, tables[s], true));
            try {
                System.out.print(KernelLab.profileDecode(gpu, new ForwardBatch(chunks)));
            } catch (RuntimeException e) {
                System.out.println("profile failed: " + e);
            }
        }
        return (double) b * steps / secs;
    }

    /** Bytes read plus written per second by a large device-to-device copy kernel (median of 10). */
    static double copyBandwidth(CudaDevice dev) {
        long bytes = 1L << 30;
        CUdeviceptr a = dev.alloc(bytes, "bandwidth test");
        CUdeviceptr b = dev.alloc(bytes, "bandwidth test");
        try {
            cuMemsetD8(a, (byte) 1, bytes);
            long n = bytes / 16;
            CUevent e0 = new CUevent(), e1 = new CUevent();
            cuEventCreate(e0, 0);
            cuEventCreate(e1, 0);
            float[] ms = new float[10];
            int grid = dev.multiprocessors * 8;
            for (int i = -2; i < ms.length; i++) {
                cuEventRecord(e0, dev.stream);
                dev.launch("copy_bandwidth", grid, 1, 1, 256, a, b, n);
                cuEventRecord(e1, dev.stream);
                cuEventSynchronize(e1);
                float[] t = {0};
                cuEventElapsedTime(t, e0, e1);
                if (i >= 0) ms[i] = t[0];
            }
            Arrays.sort(ms);
            return 2.0 * bytes / (ms[ms.length / 2] / 1e3);
        } finally {
            dev.free(a);
            dev.free(b);
        }
    }
}

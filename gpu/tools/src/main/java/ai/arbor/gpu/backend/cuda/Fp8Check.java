package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.SafeTensorsWeights;
import ai.arbor.gpu.model.quant.Quantization;
import java.io.PrintStream;
import java.util.List;

/**
 * The CUDA backend with FP8 weights against the CPU backend with the same FP8 weights (both quantize at load with
 * {@code Fp8Weight}, so they hold the same codes and scales and differ only in arithmetic order, the bf16 KV cache,
 * and the bf16 rounding of the widened weights that 3+ rows multiply). Each prompt is teacher-forced: the prompt as one
 * chunk (3+ rows: widened weights and the GEMMs; on Hopper once more through the wgmma GEMM's FP8 kernels), then its
 * continuation one token a step (the FP8 gemv, with the fused q/k/v + RoPE and gate/up + SwiGLU kernels), and two
 * prompts' steps together (the two-row gemv).
 */
final class Fp8Check {
    private static final int BLOCK = 16;

    /**
     * @param maxCpuDiff  max |logit difference| of the CUDA and CPU FP8 backends over every position
     * @param top1        positions whose argmax the two agree on
     * @param bf16Top1    positions where CUDA FP8's argmax is the reference's (BF16 transformers): FP8's own error
     */
    record Result(String model, double tolerance, double maxCpuDiff, int top1, int bf16Top1, int positions) {
        boolean passed() { return maxCpuDiff <= tolerance; }

        @Override
        public String toString() {
            return String.format("fp8 weights: %s %s: max |dlogit| %.4f vs the CPU's FP8 (tolerance %.2f); argmax same "
                            + "as the CPU's at %d/%d positions, as the BF16 reference's at %d/%d",
                    passed() ? "PASS" : "FAIL", model, maxCpuDiff, tolerance, top1, positions, bf16Top1, positions);
        }
    }

    private Fp8Check() {}

    static Result run(String model, ModelConfig config, SafeTensorsWeights weights, List<CudaSelfCheck.Case> cases, int device,
                      double tolerance, PrintStream log) {
        int maxLen = 0;
        for (CudaSelfCheck.Case c : cases) maxLen = Math.max(maxLen, c.prompt().length + c.generated().length);
        int perSeq = (maxLen + BLOCK - 1) / BLOCK + 1;
        int numBlocks = perSeq * cases.size() + 8;
        double max = 0, wgmmaMax = 0;
        int top1 = 0, bf16Top1 = 0, positions = 0;
        try (CudaBackend gpu = new CudaBackend(config, weights, device, 0.5, true, false, StepLimits.DEFAULT,
                Quantization.FP8);
             CpuBackend cpu = new CpuBackend(config, weights, 0, CpuBackend.DEFAULT_KV_CACHE_BYTES, Quantization.FP8)) {
            gpu.allocateKvCache(numBlocks, BLOCK);
            cpu.allocateKvCache(numBlocks, BLOCK);
            CudaTuning tuned = gpu.tuning();
            for (int ci = 0; ci < cases.size(); ci++) {
                CudaSelfCheck.Case c = cases.get(ci);
                int[] table = CudaSelfCheck.table(ci * perSeq, perSeq);
                int[] seq = c.sequence();
                List<float[]> g = CudaSelfCheck.teacherForced(gpu, seq, c.prompt().length, table);
                List<float[]> p = CudaSelfCheck.teacherForced(cpu, seq, c.prompt().length, table);
                for (int s = 0; s < g.size(); s++) {
                    positions++;
                    int a = CudaSelfCheck.argmax(g.get(s));
                    if (a == CudaSelfCheck.argmax(p.get(s))) top1++;
                    if (s < c.topIds().length && a == c.topIds()[s][0]) bf16Top1++;
                }
                max = Math.max(max, CudaSelfCheck.maxAbsDiff(g, p));
                if (gpu.device().hopper) { // the prompts through the wgmma GEMM's FP8 (_w8) kernels as well
                    gpu.setTuning(tuned.withHopperGemm(3, true));
                    try {
                        wgmmaMax = Math.max(wgmmaMax, CudaSelfCheck.maxAbsDiff(
                                CudaSelfCheck.teacherForced(gpu, seq, c.prompt().length, table), p));
                    } finally {
                        gpu.setTuning(tuned);
                    }
                }
            }
            max = Math.max(max, wgmmaMax);
            // two sequences a step: the two-row gemv (their prompts again, prefilled together, then decoded together)
            if (cases.size() >= 2) max = Math.max(max, twoRows(gpu, cpu, cases, perSeq));
        }
        Result r = new Result(model, tolerance, max, top1, bf16Top1, positions);
        log.println("  " + r);
        log.printf("  fp8 weights through the wgmma GEMM from 3 rows (Hopper only): max |dlogit| %.4f vs the CPU%n", wgmmaMax);
        return r;
    }

    private static double twoRows(CudaBackend gpu, CpuBackend cpu, List<CudaSelfCheck.Case> cases, int perSeq) {
        CudaSelfCheck.Case a = cases.get(cases.size() - 1), b = cases.get(cases.size() - 2);
        int[] ta = CudaSelfCheck.table(0, perSeq), tb = CudaSelfCheck.table(perSeq, perSeq);
        List<SequenceChunk> prefill = List.of(new SequenceChunk(a.prompt(), 0, ta, true),
                new SequenceChunk(b.prompt(), 0, tb, true));
        double max = diff(gpu.forward(new ForwardBatch(prefill)), cpu.forward(new ForwardBatch(prefill)));
        for (int s = 0; s < Math.min(a.generated().length, b.generated().length); s++) {
            List<SequenceChunk> step = List.of(
                    new SequenceChunk(new int[]{a.generated()[s]}, a.prompt().length + s, ta, true),
                    new SequenceChunk(new int[]{b.generated()[s]}, b.prompt().length + s, tb, true));
            max = Math.max(max, diff(gpu.forward(new ForwardBatch(step)), cpu.forward(new ForwardBatch(step))));
        }
        return max;
    }

    private static double diff(float[][] g, float[][] p) {
        double max = 0;
        for (int r = 0; r < g.length; r++) max = Math.max(max, CudaSelfCheck.maxAbsDiff(g[r], p[r]));
        return max;
    }
}

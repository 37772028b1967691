package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.protocol.Pooling;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * The CUDA backend's hidden states (what {@code /v1/embeddings} pools) against the CPU backend's, and against
 * themselves in other batch compositions: each prompt alone, all in one batch, all cut into passes of
 * {@link #PASS_TOKENS} tokens (a prompt continued across passes through the KV cache), and through the engine. Every
 * comparison is of pooled unit vectors (last token, mean, first token).
 */
final class EmbeddingCheck {
    /** The least cosine similarity of two pooled vectors that counts as the same embedding. */
    static final double MIN_COSINE = 0.999;
    /**
     * Max |difference| of one element of two unit vectors. With an fp32 KV cache the CUDA pass is fp32-accurate apart
     * from accumulation order. A bf16 KV cache rounds every cached K and V to 8 bits of mantissa: the CPU backend with
     * its cache rounded so (an experiment, 2026-12-07) moved the pooled vectors of tiny-qwen2 and tiny-llama's reference
     * prompts by up to 0.0035 (cosine >= 0.9997, the worst at the last token of the 303-token prompt); this allows ~3x.
     */
    static final double FP32_KV_TOLERANCE = 1e-3;
    static final double BF16_KV_TOLERANCE = 0.01;
    /** Small enough that the long prompt spans many passes and a pass holds the ends of two prompts. */
    static final int PASS_TOKENS = 37;
    private static final int BLOCK = 16;

    /**
     * The backend under test: its hidden states, the same cut into passes of at most so many tokens, and the backend
     * as an engine may own it (closing it then leaves it open).
     */
    record Subject(ComputeBackend backend, BiFunction<ForwardBatch, Integer, float[][]> inPasses, ComputeBackend lent) {
        static Subject of(CudaBackend gpu) { return new Subject(gpu, gpu::hiddenStates, new LentBackend(gpu)); }
    }

    /** Outcome for one model and KV cache dtype. */
    record Result(String model, String kvCache, double tolerance, Agreement vsCpu, Agreement composition, boolean shapes) {
        boolean passed() { return shapes && vsCpu.within(tolerance) && composition.within(tolerance); }

        @Override
        public String toString() {
            return String.format("embeddings: %s %s (%s KV cache; cosine >= %.3f, max |diff| <= %.4f of unit vectors) | "
                            + "CUDA vs CPU: %s | CUDA batched, in %d-token passes and via the engine vs alone: %s | "
                            + "shapes (tokens x hidden per prompt) %s",
                    passed() ? "PASS" : "FAIL", model, kvCache, MIN_COSINE, tolerance, vsCpu, PASS_TOKENS, composition,
                    shapes ? "ok" : "WRONG");
        }
    }

    /** The worst of several comparisons of pooled vectors. */
    static final class Agreement {
        private int vectors;
        private double minCosine = 1;
        private double maxDiff;
        private String worst = "-";

        void add(String what, float[] a, float[] b) {
            double dot = 0, na = 0, nb = 0, diff = 0;
            for (int i = 0; i < a.length; i++) {
                dot += (double) a[i] * b[i];
                na += (double) a[i] * a[i];
                nb += (double) b[i] * b[i];
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            double cos = dot / Math.sqrt(na * nb);
            vectors++;
            // NaN anywhere makes the result NaN, which no bound accepts
            if (!(diff <= maxDiff)) worst = what;
            minCosine = Math.min(minCosine, cos);
            maxDiff = Math.max(maxDiff, diff);
        }

        boolean within(double tolerance) { return vectors > 0 && minCosine >= MIN_COSINE && maxDiff <= tolerance; }

        @Override
        public String toString() {
            return String.format("%d vectors, min cosine %.6f, max |diff| %.5f (at %s)", vectors, minCosine, maxDiff, worst);
        }
    }

    private EmbeddingCheck() {}

    /** Re-allocates both backends' KV caches (and the engine's) for the check's prompts, of different lengths. */
    static Result run(String model, ModelConfig config, Subject subject, ComputeBackend cpu, List<int[]> prompts,
                      boolean kvFloat32, PrintStream log) {
        ComputeBackend gpu = subject.backend();
        int hidden = config.hiddenSize();
        List<SequenceChunk> chunks = new ArrayList<>();
        int next = 0;
        for (int[] p : prompts) {
            int blocks = (p.length + BLOCK - 1) / BLOCK;
            int[] table = new int[blocks];
            for (int b = 0; b < blocks; b++) table[b] = next + blocks - 1 - b; // not in order: the table is read
            next += blocks;
            chunks.add(new SequenceChunk(p, 0, table, false));
        }
        gpu.allocateKvCache(next, BLOCK);
        cpu.allocateKvCache(next, BLOCK);
        ForwardBatch all = new ForwardBatch(chunks);
        float[][] gpuAlone = new float[prompts.size()][];
        float[][] cpuAlone = new float[prompts.size()][];
        for (int i = 0; i < prompts.size(); i++) {
            gpuAlone[i] = alone(gpu, chunks.get(i));
            cpuAlone[i] = alone(cpu, chunks.get(i));
        }
        float[][] gpuBatch = gpu.hiddenStates(all);
        float[][] cpuBatch = cpu.hiddenStates(all);
        float[][] gpuPasses = subject.inPasses().apply(all, PASS_TOKENS);
        float[][] served = viaEngine(config, subject.lent(), prompts, next + 1);

        boolean shapes = served.length == prompts.size();
        for (int i = 0; i < served.length && shapes; i++) shapes = served[i].length == hidden;
        for (float[][] h : List.of(gpuAlone, cpuAlone, gpuBatch, cpuBatch, gpuPasses)) {
            shapes &= h.length == prompts.size();
            for (int i = 0; i < h.length && shapes; i++) shapes = h[i].length == prompts.get(i).length * hidden;
        }
        Agreement vsCpu = new Agreement();
        Agreement composition = new Agreement();
        if (shapes) {
            for (int i = 0; i < prompts.size(); i++) {
                int len = prompts.get(i).length;
                for (Pooling pooling : Pooling.values()) {
                    String at = "prompt of " + len + " tokens, " + pooling;
                    float[] alone = pooling.pool(gpuAlone[i], len, hidden);
                    vsCpu.add(at + ", alone", alone, pooling.pool(cpuAlone[i], len, hidden));
                    vsCpu.add(at + ", batched", pooling.pool(gpuBatch[i], len, hidden), pooling.pool(cpuBatch[i], len, hidden));
                    composition.add(at + ", batched", pooling.pool(gpuBatch[i], len, hidden), alone);
                    composition.add(at + ", in passes", pooling.pool(gpuPasses[i], len, hidden), alone);
                }
                String engine = "prompt of " + len + " tokens via the engine";
                vsCpu.add(engine, served[i], Pooling.LAST.pool(cpuAlone[i], len, hidden));
                composition.add(engine, served[i], Pooling.LAST.pool(gpuAlone[i], len, hidden));
            }
        }
        Result r = new Result(model, kvFloat32 ? "fp32" : "bf16", kvFloat32 ? FP32_KV_TOLERANCE : BF16_KV_TOLERANCE,
                vsCpu, composition, shapes);
        log.printf("  hidden states of prompts of %s tokens: CUDA vs CPU %s; CUDA batch compositions vs alone %s%n",
                prompts.stream().map(p -> String.valueOf(p.length)).toList(), vsCpu, composition);
        return r;
    }

    private static float[] alone(ComputeBackend b, SequenceChunk c) {
        return b.hiddenStates(new ForwardBatch(List.of(c)))[0];
    }

    /** The prompts embedded as {@code /v1/embeddings} does: an engine over the backend, pooled from the last token. */
    private static float[][] viaEngine(ModelConfig config, ComputeBackend lent, List<int[]> prompts, int blocks) {
        try (LLMEngine engine = new LLMEngine(config, new int[0], lent,
                new EngineConfig(BLOCK, blocks, 8, 512, 0, false, 1L << 30))) {
            CompletableFuture<float[][]> out = engine.embed(prompts);
            while (engine.hasWork()) engine.step();
            return out.join();
        }
    }
}

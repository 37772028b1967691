package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GreedyForward;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
import ai.arbor.gpu.sample.SamplingRow;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What {@link LLMEngine} itself costs on the host per decode step (scheduler, KV block tables, the batch and sampling
 * rows it hands the backend, token bookkeeping, outputs to the sinks), with a backend that answers at once and, like
 * the CUDA backend, samples "on the device": the part of a GPU step's time that no kernel accounts for. Qwen2.5-1.5B's
 * shape, 128-token prompts, greedy and sampled (temperature 0.7, top_p 0.9) requests.
 *
 * <pre>
 * EngineHostBench [batch=64] [steps=400] [repeats=20]
 * </pre>
 */
public final class EngineHostBench {
    private EngineHostBench() {}

    /** Costs nothing: each row's "argmax" is a fixed token, so the engine's own work is all that is timed. */
    private static final class InstantBackend implements ComputeBackend, GreedyForward, DeviceSampling {
        @Override public String name() { return "instant"; }
        @Override public long kvBlockBytes(int blockSize) { return 1; }
        @Override public int availableKvBlocks(int blockSize) { return 1 << 20; }
        @Override public void allocateKvCache(int numBlocks, int blockSize) { }

        @Override
        public float[][] forward(ForwardBatch batch) {
            throw new UnsupportedOperationException("greedy steps only");
        }

        @Override
        public int[] forwardGreedy(ForwardBatch batch) {
            int rows = 0;
            for (SequenceChunk c : batch.chunks()) if (c.wantLogits()) rows++;
            int[] out = new int[rows];
            for (int i = 0; i < rows; i++) out[i] = 1000 + i;
            return out;
        }

        @Override
        public StepTokens forwardSampled(ForwardBatch batch, List<SamplingRow> rows) {
            return new StepTokens(forwardGreedy(batch), new TokenLogprobs[rows.size()]);
        }

        @Override public boolean canSample(List<SamplingRow> rows) { return true; }
        @Override public void release(String sequenceId) { }
        @Override public void close() { }
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        for (double temperature : new double[]{0, 0.7}) {
            SamplingParams p = new SamplingParams(temperature, temperature == 0 ? 1 : 0.9, 0, 0, null, 0, 0, 1, steps,
                    0, true, new int[0], List.of(), null);
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < repeats; rep++) best = Math.min(best, microsPerStep(batch, p, rep));
            System.out.printf(Locale.ROOT, "LLMEngine host work per decode step, batch %d, %s: %.1f us (best of %d"
                    + " runs of %d steps)%n", batch, temperature == 0 ? "greedy" : "temperature 0.7 top_p 0.9", best,
                    repeats, steps);
        }
    }

    private static double microsPerStep(int batch, SamplingParams sampling, long seed) {
        ModelConfig c = RandomCheckpoint.qwen25OnePointFiveB();
        long[] produced = {0};
        try (LLMEngine engine = new LLMEngine(c, new int[0], new InstantBackend(),
                new EngineConfig(16, 0, Math.max(256, batch), 2048, 0, true, 0))) {
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int i = 0; i < batch; i++) {
                engine.addRequest(new EngineRequest("r" + i, rnd.ints(128, 0, c.vocabSize()).toArray(), sampling),
                        o -> produced[0] += o.newTokenIds().length);
            }
            long t0 = 0;
            int n = 0, from = 0;
            while (engine.hasWork()) {
                engine.step();
                n++;
                if (t0 == 0 && produced[0] >= 2L * batch) { // from the second decode step on
                    t0 = System.nanoTime();
                    from = n;
                }
            }
            return (System.nanoTime() - t0) / 1e3 / (n - from);
        }
    }
}

package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Drives a backend the way the engine does during decode: {@code batch} sequences, each prefilled with a short prompt,
 * then steps of one token per sequence fed back from the greedy argmax. Times only the decode steps.
 */
public final class DecodeRun {
    private DecodeRun() {}

    /** @param tokensPerSecond generated tokens (all sequences) per second of decode steps */
    public record Result(int batch, int promptTokens, int steps, double seconds, double tokensPerSecond,
                         double prefillTokensPerSecond) {}

    public static Result run(ComputeBackend backend, int vocabSize, int batch, int promptTokens, int warmupSteps,
                             int steps, long seed) {
        int blockSize = 16;
        int maxLen = promptTokens + warmupSteps + steps;
        int blocksPerSeq = (maxLen + blockSize - 1) / blockSize;
        backend.allocateKvCache(batch * blocksPerSeq, blockSize);
        Random rnd = new Random(seed);
        int[][] tables = new int[batch][blocksPerSeq];
        for (int s = 0; s < batch; s++) {
            for (int b = 0; b < blocksPerSeq; b++) tables[s][b] = s * blocksPerSeq + b;
        }
        List<SequenceChunk> prefill = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) prompt[i] = rnd.nextInt(vocabSize);
            prefill.add(new SequenceChunk(prompt, 0, tables[s], true));
        }
        long p0 = System.nanoTime();
        float[][] logits = backend.forward(new ForwardBatch(prefill));
        double prefillSeconds = (System.nanoTime() - p0) / 1e9;
        int[] next = new int[batch];
        for (int s = 0; s < batch; s++) next[s] = argmax(logits[s]);
        int position = promptTokens;
        long start = 0;
        for (int step = 0; step < warmupSteps + steps; step++) {
            if (step == warmupSteps) start = System.nanoTime();
            List<SequenceChunk> chunks = new ArrayList<>(batch);
            for (int s = 0; s < batch; s++) chunks.add(new SequenceChunk(new int[]{next[s]}, position, tables[s], true));
            logits = backend.forward(new ForwardBatch(chunks));
            for (int s = 0; s < batch; s++) next[s] = argmax(logits[s]);
            position++;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(batch, promptTokens, steps, seconds, batch * steps / seconds,
                batch * promptTokens / prefillSeconds);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

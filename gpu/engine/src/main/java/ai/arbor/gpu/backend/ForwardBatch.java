package ai.arbor.gpu.backend;

import java.util.List;

/** Everything one engine step computes: decode rows and prefill chunks of different sequences in one pass. */
public record ForwardBatch(List<SequenceChunk> chunks) {
    public int numTokens() {
        int n = 0;
        for (SequenceChunk c : chunks) n += c.tokens().length;
        return n;
    }

    /**
     * One row of {@code width} values per token of this batch, in batch order (row-major), cut into one array per chunk:
     * its tokens x {@code width}. How {@link ComputeBackend#hiddenStates} hands back a pass's rows.
     */
    public float[][] perChunk(float[] rows, int width) {
        if (rows.length != (long) numTokens() * width) {
            throw new IllegalArgumentException(rows.length + " values are not " + numTokens() + " rows of " + width);
        }
        float[][] out = new float[chunks.size()][];
        int from = 0;
        for (int c = 0; c < out.length; c++) {
            int len = chunks.get(c).tokens().length * width;
            out[c] = new float[len];
            System.arraycopy(rows, from, out[c], 0, len);
            from += len;
        }
        return out;
    }
}

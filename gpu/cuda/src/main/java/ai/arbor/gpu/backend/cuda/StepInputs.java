package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;

import java.util.List;

/**
 * One forward pass flattened into the int arrays the kernels read, packed into one buffer so that a step costs a single
 * host-to-device copy: {@code ids[n] | positions[n] | slots[n] | seqOfToken[n] | logitRows[m] | tables[seqs * width]}.
 * A decode step may be padded to a graph's batch size: padding rows read token 0 at position 0 and write their K/V
 * into a scratch block that no sequence owns.
 *
 * @param n      token rows (with padding)
 * @param m      logits rows (with padding)
 * @param realM  logits rows the caller asked for
 * @param width  block-table entries per sequence
 */
record StepInputs(int n, int m, int realM, int seqs, int width, int[] packed) {

    int idsOffset() { return 0; }
    int positionsOffset() { return n; }
    int slotsOffset() { return 2 * n; }
    int seqOfTokenOffset() { return 3 * n; }
    int logitRowsOffset() { return 4 * n; }
    int tablesOffset() { return 4 * n + m; }

    /** True when every chunk is one token that wants logits: the shape CUDA graphs replay. */
    static boolean isDecode(ForwardBatch batch) {
        for (SequenceChunk c : batch.chunks()) if (c.tokens().length != 1 || !c.wantLogits()) return false;
        return !batch.chunks().isEmpty();
    }

    /**
     * @param padTo       pad to this many one-token sequences (decode graphs), or 0 for no padding
     * @param minWidth    the block-table width to use at least (graphs are captured per width)
     * @param scratchBlock the block id padding rows write into
     */
    static StepInputs of(ForwardBatch batch, int vocabSize, int numBlocks, int blockSize, int padTo, int minWidth,
                         int scratchBlock) {
        List<SequenceChunk> chunks = batch.chunks();
        if (chunks.isEmpty()) throw new IllegalArgumentException("forward batch has no chunks");
        int realN = batch.numTokens();
        int realM = 0;
        int width = Math.max(1, minWidth);
        for (int ci = 0; ci < chunks.size(); ci++) {
            SequenceChunk c = chunks.get(ci);
            if (c.tokens().length == 0) throw new IllegalArgumentException("chunk " + ci + " has no tokens");
            if (c.startPosition() < 0) {
                throw new IllegalArgumentException("chunk " + ci + " has negative startPosition " + c.startPosition());
            }
            int blocksNeeded = (c.endPosition() + blockSize - 1) / blockSize;
            if (c.blockTable().length < blocksNeeded) {
                throw new IllegalArgumentException("chunk " + ci + " ends at position " + c.endPosition()
                        + " but its block table has only " + c.blockTable().length + " blocks of " + blockSize);
            }
            for (int b = 0; b < blocksNeeded; b++) {
                int block = c.blockTable()[b];
                if (block < 0 || block >= numBlocks) {
                    throw new IllegalArgumentException("chunk " + ci + " names block " + block + " but the cache has "
                            + numBlocks + " blocks");
                }
            }
            width = Math.max(width, blocksNeeded);
            if (c.wantLogits()) realM++;
        }
        int n = Math.max(realN, padTo);
        int seqs = Math.max(chunks.size(), padTo);
        int m = padTo > 0 ? Math.max(realM, padTo) : realM;
        int[] p = new int[4 * n + m + seqs * width];
        StepInputs s = new StepInputs(n, m, realM, seqs, width, p);
        int t = 0;
        int li = 0;
        for (int ci = 0; ci < chunks.size(); ci++) {
            SequenceChunk c = chunks.get(ci);
            int[] table = c.blockTable();
            int blocksNeeded = (c.endPosition() + blockSize - 1) / blockSize;
            int rowBase = s.tablesOffset() + ci * width;
            for (int b = 0; b < width; b++) p[rowBase + b] = b < blocksNeeded ? table[b] : scratchBlock;
            for (int j = 0; j < c.tokens().length; j++) {
                int id = c.tokens()[j];
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("chunk " + ci + " token " + j + " has id " + id
                            + " outside the vocabulary [0, " + vocabSize + ")");
                }
                int pos = c.startPosition() + j;
                p[s.idsOffset() + t] = id;
                p[s.positionsOffset() + t] = pos;
                p[s.slotsOffset() + t] = table[pos / blockSize] * blockSize + pos % blockSize;
                p[s.seqOfTokenOffset() + t] = ci;
                t++;
            }
            if (c.wantLogits()) p[s.logitRowsOffset() + li++] = t - 1;
        }
        for (int ci = chunks.size(); ci < seqs; ci++) {
            int rowBase = s.tablesOffset() + ci * width;
            for (int b = 0; b < width; b++) p[rowBase + b] = scratchBlock;
        }
        for (; t < n; t++) {
            p[s.idsOffset() + t] = 0;
            p[s.positionsOffset() + t] = 0;
            p[s.slotsOffset() + t] = scratchBlock * blockSize;
            p[s.seqOfTokenOffset() + t] = t; // padding only happens for decode, where token t is sequence t
        }
        for (; li < m; li++) p[s.logitRowsOffset() + li] = li;
        return s;
    }
}

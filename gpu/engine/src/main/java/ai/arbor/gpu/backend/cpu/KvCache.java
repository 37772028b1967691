package ai.arbor.gpu.backend.cpu;

/**
 * The paged KV cache in fp32: per layer one K and one V array of {@code [numBlocks, blockSize, numKvHeads, headDim]}.
 * fp32 keeps attention exact against the reference at the cost of twice bf16's memory; a slot is a token position,
 * {@code block * blockSize + position % blockSize}.
 */
final class KvCache {
    static final int BYTES_PER_VALUE = Float.BYTES;

    final int numBlocks;
    final int blockSize;
    final int numKvHeads;
    final int headDim;
    final float[][] keys;
    final float[][] values;

    KvCache(int numLayers, int numBlocks, int blockSize, int numKvHeads, int headDim) {
        if (numBlocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("KV cache needs numBlocks >= 1 and blockSize >= 1, got "
                    + numBlocks + " x " + blockSize);
        }
        long perLayer = (long) numBlocks * blockSize * numKvHeads * headDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + numBlocks + " blocks x " + blockSize
                    + " tokens needs " + perLayer + " floats per layer, more than one Java array holds");
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.keys = new float[numLayers][(int) perLayer];
        this.values = new float[numLayers][(int) perLayer];
    }

    static long blockBytes(int numLayers, int blockSize, int kvDim) {
        return (long) blockSize * numLayers * 2L * kvDim * BYTES_PER_VALUE;
    }

    /** Slot of {@code position} in the sequence whose logical-to-physical block map is {@code blockTable}. */
    int slot(int[] blockTable, int position) {
        return blockTable[position / blockSize] * blockSize + position % blockSize;
    }

    /** Index of head {@code kvHead}'s vector in slot {@code slot}. */
    int offset(int slot, int kvHead) {
        return (slot * numKvHeads + kvHead) * headDim;
    }
}

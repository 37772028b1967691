package ai.arbor.gpu.backend.cuda;

/**
 * Where the runs of a KV block lie, in the paged cache and in a block's host format. A run is one layer's K or V slots
 * of one block ({@code blockSize * kvDim} elements, contiguous in that layer's cache); a block in host format is its
 * {@code 2 * layers} runs in the order K of layer 0, V of layer 0, K of layer 1, ... Staging holds blocks back to back
 * in that format, so run {@code r} of the staging buffer sits at {@code r * runBytes}. {@code kv_copy.cu} computes the
 * same; this is its arithmetic in Java, tested without a GPU.
 *
 * @param layers           layers of the model
 * @param layerStrideBytes bytes between the caches of two layers (K and V caches have the same layout)
 * @param runBytes         bytes of one run
 */
record KvPackLayout(int layers, long layerStrideBytes, long runBytes) {
    KvPackLayout {
        if (layers < 1 || runBytes < 1 || layerStrideBytes < runBytes) {
            throw new IllegalArgumentException("KV layout of " + layers + " layers, stride " + layerStrideBytes
                    + " bytes, runs of " + runBytes + " bytes");
        }
        if (runBytes % 16 != 0 || layerStrideBytes % 16 != 0) {
            // the kernels move 16-byte words; kvDim is a multiple of 32 and elements are 2 or 4 bytes, so this holds
            throw new IllegalArgumentException("KV runs of " + runBytes + " bytes and a layer stride of "
                    + layerStrideBytes + " bytes are not whole 16-byte words");
        }
    }

    static KvPackLayout of(int layers, long layerStrideElements, int blockSize, int kvDim, int elementBytes) {
        return new KvPackLayout(layers, layerStrideElements * elementBytes, (long) blockSize * kvDim * elementBytes);
    }

    int runsPerBlock() { return 2 * layers; }

    long blockBytes() { return runsPerBlock() * runBytes; }

    /** Run {@code j} of a block ({@code 0 <= j < 2 * layers}) is a V run, else K. */
    static boolean isValue(int j) { return (j & 1) == 1; }

    /** Byte offset of run {@code j} of block {@code blockId} in the K cache ({@link #isValue} false) or V cache. */
    long cacheOffset(int blockId, int j) { return (j >> 1) * layerStrideBytes + blockId * runBytes; }

    /** Byte offset of run {@code j} of the {@code i}-th block of a staging buffer (or of a host buffer, from 0). */
    long stagingOffset(int i, int j) { return ((long) i * runsPerBlock() + j) * runBytes; }

    /** The block ({@code ids} index) and run of staging run {@code r}, as kv_copy.cu's run_in_cache splits it. */
    int blockOfRun(long r) { return (int) (r / runsPerBlock()); }

    int runOfRun(long r) { return (int) (r % runsPerBlock()); }

    /** Blocks per copy round that fit {@code stagingBytes} (at least one). */
    int roundBlocks(long stagingBytes) { return roundBlocks(stagingBytes, blockBytes()); }

    static int roundBlocks(long stagingBytes, long blockBytes) {
        return (int) Math.max(1, Math.min(1 << 20, stagingBytes / blockBytes));
    }
}

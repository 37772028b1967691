package ai.arbor.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import ai.arbor.gpu.backend.KvBlockCopier;
import java.nio.ByteBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Block copies for the CUDA backend's paged cache (device to host and back, for the host tier and transfers). A block
 * is one contiguous run of {@code blockSize * kvDim} elements in each layer's K and V cache ({@link KvPackLayout}).
 *
 * <p>Many blocks at once (the batched calls, what the host tier and transfers use) go through {@link PinnedKvStaging}:
 * a gather kernel packs the blocks into a device staging buffer, which crosses to page-locked host memory on a copy
 * stream of its own (and the reverse with a scatter kernel), ordered against the compute stream by events, in bounded
 * rounds ({@link CudaTuning#kvCopyRoundMib}). One block alone keeps the simple path: a synchronize, then
 * {@code 2 * layers} synchronous memcpys into the caller's (pageable) direct buffer; CudaBenchmark compares the two.
 * One instance per allocated cache (the staging belongs to it); {@link #close} before the cache is freed.
 */
final class CudaKvBlockCopier implements KvBlockCopier, AutoCloseable {
    private final CudaDevice dev;
    private final CUdeviceptr keys;
    private final CUdeviceptr values;
    private final KvPackLayout layout;
    private final int numBlocks;
    private final PinnedKvStaging staging;

    CudaKvBlockCopier(CudaDevice dev, CUdeviceptr keys, CUdeviceptr values, KvPackLayout layout, int numBlocks,
                      long stagingBytes) {
        this.dev = dev;
        this.keys = keys;
        this.values = values;
        this.layout = layout;
        this.numBlocks = numBlocks;
        this.staging = new PinnedKvStaging(dev, keys, values, layout, layout.roundBlocks(stagingBytes));
    }

    @Override
    public long blockBytes() { return layout.blockBytes(); }

    /** Another copier over the same cache with rounds of {@code stagingBytes} (the tools test several rounds); close it. */
    CudaKvBlockCopier withStaging(long stagingBytes) {
        return new CudaKvBlockCopier(dev, keys, values, layout, numBlocks, stagingBytes);
    }

    /** Memcpys of the single-block path: a K and a V run per layer. */
    int runsPerBlock() { return layout.runsPerBlock(); }

    /** Blocks per round of the batched path. */
    int roundBlocks() { return staging.roundBlocks(); }

    /** Device bytes of the batched path's staging now held (0 before its first use). */
    long stagingDeviceBytes() { return staging.deviceBytesHeld(); }

    @Override
    public void read(int blockId, ByteBuffer dst) {
        check(blockId, dst, true);
        staging.quiesce();
        dev.makeCurrent(); // the caller's thread may last have used another GPU's engine
        dev.synchronize();
        for (int j = 0; j < layout.runsPerBlock(); j++) {
            cuMemcpyDtoH(Pointer.to(run(dst, j)), at(blockId, j), layout.runBytes());
        }
        dst.position(dst.position() + (int) blockBytes());
    }

    @Override
    public void write(int blockId, ByteBuffer src) {
        check(blockId, src, true);
        staging.quiesce();
        dev.makeCurrent(); // the caller's thread may last have used another GPU's engine
        dev.synchronize();
        for (int j = 0; j < layout.runsPerBlock(); j++) {
            cuMemcpyHtoD(at(blockId, j), Pointer.to(run(src, j)), layout.runBytes());
        }
        src.position(src.position() + (int) blockBytes());
    }

    @Override
    public void read(int[] blockIds, ByteBuffer[] dsts) {
        checkAll(blockIds, dsts);
        staging.read(blockIds, dsts);
    }

    @Override
    public void write(int[] blockIds, ByteBuffer[] srcs) {
        checkAll(blockIds, srcs);
        staging.write(blockIds, srcs);
    }

    /** Waits for queued batched copies and frees the staging buffers. */
    @Override
    public void close() { staging.close(); }

    private CUdeviceptr at(int blockId, int j) {
        return (KvPackLayout.isValue(j) ? values : keys).withByteOffset(layout.cacheOffset(blockId, j));
    }

    /** Run {@code j} of a block starting at the buffer's position, as a buffer of its own. */
    private ByteBuffer run(ByteBuffer b, int j) {
        int from = b.position() + (int) layout.stagingOffset(0, j);
        return b.duplicate().position(from).limit(from + (int) layout.runBytes()).slice();
    }

    private void checkAll(int[] blockIds, ByteBuffer[] buffers) {
        if (blockIds.length != buffers.length) {
            throw new IllegalArgumentException(blockIds.length + " KV blocks but " + buffers.length + " buffers");
        }
        for (int i = 0; i < blockIds.length; i++) check(blockIds[i], buffers[i], false);
    }

    private void check(int blockId, ByteBuffer buf, boolean direct) {
        if (blockId < 0 || blockId >= numBlocks) {
            throw new IllegalArgumentException("KV block " + blockId + " is outside the cache's " + numBlocks);
        }
        if ((direct && !buf.isDirect()) || buf.remaining() < blockBytes()) {
            throw new IllegalArgumentException("a KV block takes " + blockBytes() + " bytes of a "
                    + (direct ? "direct " : "") + "buffer, got "
                    + (direct && !buf.isDirect() ? "a heap buffer" : buf.remaining() + " bytes"));
        }
    }
}

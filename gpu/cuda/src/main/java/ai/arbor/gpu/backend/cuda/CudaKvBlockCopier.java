package ai.arbor.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import ai.arbor.gpu.backend.KvBlockCopier;
import java.nio.ByteBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Block copies for the CUDA backend's paged cache (device to host and back, for the host tier and transfers). A block
 * is one contiguous run of {@code blockSize * kvDim} elements in each layer's K and V cache, so a copy is
 * {@code 2 * layers} memcpys, after the stream has finished the step that wrote the cache. The host side is whatever
 * direct buffer the caller gives (pageable, not pinned: staging through pinned buffers and overlapping copies with
 * compute is not done). Compiled here, never run: this machine has no GPU.
 */
final class CudaKvBlockCopier implements KvBlockCopier {
    private final CudaDevice dev;
    private final CUdeviceptr keys;
    private final CUdeviceptr values;
    private final long layerStrideBytes;
    private final long runBytes;
    private final int numLayers;
    private final int numBlocks;

    CudaKvBlockCopier(CudaDevice dev, CUdeviceptr keys, CUdeviceptr values, long layerStrideElements, int blockSize,
                      int kvDim, int elementBytes, int numLayers, int numBlocks) {
        this.dev = dev;
        this.keys = keys;
        this.values = values;
        this.layerStrideBytes = layerStrideElements * elementBytes;
        this.runBytes = (long) blockSize * kvDim * elementBytes;
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
    }

    @Override
    public long blockBytes() { return 2L * numLayers * runBytes; }

    @Override
    public void read(int blockId, ByteBuffer dst) {
        check(blockId, dst);
        dev.makeCurrent(); // the caller's thread may last have used another GPU's engine
        dev.synchronize();
        for (int l = 0; l < numLayers; l++) {
            cuMemcpyDtoH(Pointer.to(run(dst, 2 * l)), at(keys, l, blockId), runBytes);
            cuMemcpyDtoH(Pointer.to(run(dst, 2 * l + 1)), at(values, l, blockId), runBytes);
        }
        dst.position(dst.position() + (int) blockBytes());
    }

    @Override
    public void write(int blockId, ByteBuffer src) {
        check(blockId, src);
        dev.makeCurrent(); // the caller's thread may last have used another GPU's engine
        dev.synchronize();
        for (int l = 0; l < numLayers; l++) {
            cuMemcpyHtoD(at(keys, l, blockId), Pointer.to(run(src, 2 * l)), runBytes);
            cuMemcpyHtoD(at(values, l, blockId), Pointer.to(run(src, 2 * l + 1)), runBytes);
        }
        src.position(src.position() + (int) blockBytes());
    }

    private CUdeviceptr at(CUdeviceptr cache, int layer, int blockId) {
        return cache.withByteOffset(layer * layerStrideBytes + blockId * runBytes);
    }

    /** The {@code i}-th run of a block starting at the buffer's position, as a buffer of its own. */
    private ByteBuffer run(ByteBuffer b, int i) {
        int from = b.position() + (int) (i * runBytes);
        return b.duplicate().position(from).limit(from + (int) runBytes).slice();
    }

    private void check(int blockId, ByteBuffer buf) {
        if (blockId < 0 || blockId >= numBlocks) {
            throw new IllegalArgumentException("KV block " + blockId + " is outside the cache's " + numBlocks);
        }
        if (!buf.isDirect() || buf.remaining() < blockBytes()) {
            throw new IllegalArgumentException("a KV block takes " + blockBytes() + " bytes of a direct buffer, got "
                    + (buf.isDirect() ? buf.remaining() + " bytes" : "a heap buffer"));
        }
    }
}

package ai.arbor.gpu.backend.cuda;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUdeviceptr;

/**
 * The 128-byte tensor maps the TMA kernels (hopper_gemm_tma.cuh) take by value, from the driver's
 * {@code cuTensorMapEncodeTiled} through JNA: JCuda 12.6 has no binding for it. A map only encodes an address, a
 * shape and a box, so maps are cached by exactly those (a freed and reused address with the same shape gets a map that
 * is still right). Loaded on first use only: nothing here runs unless {@link CudaTuning#hopperGemmTma} is on.
 */
final class TensorMaps {
    /** cuda.h: CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, _INTERLEAVE_NONE, _SWIZZLE_128B, _L2_PROMOTION_L2_256B, _OOB_FILL_NONE. */
    private static final int BFLOAT16 = 9, INTERLEAVE_NONE = 0, SWIZZLE_128B = 3, L2_256B = 3, OOB_FILL_NONE = 0;
    private static final int BYTES = 128;

    private record Key(long address, long rows, long cols, int boxRows) {}

    private static final Map<Key, byte[]> CACHE = new ConcurrentHashMap<>();
    private static final Function ENCODE = NativeLibrary.getInstance("cuda").getFunction("cuTensorMapEncodeTiled");

    private TensorMaps() {}

    /**
     * A row-major bf16 matrix [rows, cols] at {@code base}, read in boxes of 64 columns (128 bytes: one swizzle row)
     * by {@code boxRows} rows into the 128-byte swizzle layout; rows beyond {@code rows} read as zeros.
     */
    static byte[] bf16Rows(CUdeviceptr base, long rows, long cols, int boxRows) {
        return CACHE.computeIfAbsent(new Key(DriverHandles.address(base), rows, cols, boxRows), TensorMaps::encode);
    }

    private static byte[] encode(Key k) {
        try (Memory map = new Memory(BYTES + 64); Memory dims = new Memory(16); Memory strides = new Memory(8);
             Memory box = new Memory(8); Memory elementStrides = new Memory(8)) {
            Pointer aligned = map.share(-Pointer.nativeValue(map) & 63); // CUtensorMap is 64-byte aligned
            dims.setLong(0, k.cols());
            dims.setLong(8, k.rows());
            strides.setLong(0, 2 * k.cols());
            box.setInt(0, 64);
            box.setInt(4, k.boxRows());
            elementStrides.setInt(0, 1);
            elementStrides.setInt(4, 1);
            int status = ENCODE.invokeInt(new Object[]{aligned, BFLOAT16, 2, new Pointer(k.address()), dims, strides, box,
                    elementStrides, INTERLEAVE_NONE, SWIZZLE_128B, L2_256B, OOB_FILL_NONE});
            if (status != 0) {
                throw new IllegalStateException("cuTensorMapEncodeTiled failed (CUresult " + status + ") for " + k);
            }
            return aligned.getByteArray(0, BYTES);
        }
    }
}

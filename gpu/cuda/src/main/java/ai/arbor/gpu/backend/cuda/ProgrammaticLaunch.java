package ai.arbor.gpu.backend.cuda;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * A kernel launch with programmatic stream serialization (pdl.cuh): the driver's {@code cuLaunchKernelEx} with
 * {@code CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION}, through JNA, as JCuda 12.6 has no binding for it.
 * The kernel may be launched before the one ahead of it in the stream has finished; it waits for that one itself
 * ({@code griddepcontrol.wait}). Used while a decode graph is captured, where the launch is recorded once and
 * replayed, so the JNA marshalling costs nothing per step.
 */
final class ProgrammaticLaunch {
    /** cuda.h, CUDA 12-13: CUlaunchConfig is 56 bytes (hStream at 32, attrs at 40, numAttrs at 48); a CUlaunchAttribute
     * 72 (the id, padding to 8, a 64-byte value union). */
    private static final int CONFIG_BYTES = 56, ATTRIBUTE_BYTES = 72;
    private static final int PROGRAMMATIC_STREAM_SERIALIZATION = 6;

    private static final Function LAUNCH_EX = NativeLibrary.getInstance("cuda").getFunction("cuLaunchKernelEx");

    private ProgrammaticLaunch() {}

    /** Arguments as {@link CudaDevice#launchOn} takes them. */
    static void launch(CUfunction f, int gx, int gy, int gz, int block, int sharedBytes, CUstream stream,
                       Object[] args) {
        try (Memory attribute = new Memory(ATTRIBUTE_BYTES); Memory config = new Memory(CONFIG_BYTES);
             Memory params = new Memory(8L * Math.max(1, args.length))) {
            attribute.clear();
            attribute.setInt(0, PROGRAMMATIC_STREAM_SERIALIZATION);
            attribute.setInt(8, 1); // programmaticStreamSerializationAllowed
            config.clear();
            config.setInt(0, gx);
            config.setInt(4, gy);
            config.setInt(8, gz);
            config.setInt(12, block);
            config.setInt(16, 1);
            config.setInt(20, 1);
            config.setInt(24, sharedBytes);
            config.setLong(32, DriverHandles.handle(stream));
            config.setPointer(40, attribute);
            config.setInt(48, 1);
            Memory[] values = new Memory[args.length]; // live until the call returns: the driver copies them
            for (int i = 0; i < args.length; i++) {
                values[i] = value(args[i]);
                params.setPointer(8L * i, values[i]);
            }
            int status = LAUNCH_EX.invokeInt(new Object[]{config, new Pointer(DriverHandles.handle(f)), params,
                    Pointer.NULL});
            for (Memory v : values) v.close();
            if (status != 0) {
                throw new IllegalStateException("cuLaunchKernelEx with programmatic stream serialization failed"
                        + " (CUresult " + status + ")");
            }
        }
    }

    private static Memory value(Object a) {
        if (a instanceof byte[] bytes) { // a struct passed by value (a tensor map)
            Memory m = new Memory(bytes.length);
            m.write(0, bytes, 0, bytes.length);
            return m;
        }
        Memory m = new Memory(8);
        m.clear();
        if (a == null) return m;
        if (a instanceof CUdeviceptr p) m.setLong(0, DriverHandles.address(p));
        else if (a instanceof Integer v) m.setInt(0, v);
        else if (a instanceof Float v) m.setFloat(0, v);
        else if (a instanceof Long v) m.setLong(0, v);
        else throw new IllegalArgumentException("unsupported kernel argument " + a.getClass());
        return m;
    }
}

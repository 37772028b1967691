package ai.arbor.gpu.backend.cuda;

import java.lang.reflect.Method;
import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;

/**
 * The raw values behind JCuda's handle objects, for the driver calls JCuda 12.6 has no binding for and that go through
 * JNA instead ({@link TensorMaps}, {@link ProgrammaticLaunch}). JCuda keeps them in non-public accessors.
 */
final class DriverHandles {
    private static final Method NATIVE = accessible(NativePointerObject.class, "getNativePointer");
    private static final Method OFFSET = accessible(jcuda.Pointer.class, "getByteOffset");

    private DriverHandles() {}

    /** The device address a {@link CUdeviceptr} points at (its base plus any offset JCuda added to it). */
    static long address(CUdeviceptr p) {
        try {
            return (long) NATIVE.invoke(p) + (long) OFFSET.invoke(p);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read a JCuda device pointer's address", e);
        }
    }

    /** The driver handle (CUfunction, CUstream, ...) a JCuda object wraps; 0 for a null stream. */
    static long handle(NativePointerObject o) {
        if (o == null) return 0;
        try {
            return (long) NATIVE.invoke(o);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read a JCuda handle", e);
        }
    }

    private static Method accessible(Class<?> c, String name) {
        try {
            Method m = c.getDeclaredMethod(name);
            m.setAccessible(true);
            return m;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(c.getName() + " has no " + name, e);
        }
    }
}

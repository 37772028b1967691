package ai.arbor.gpu.backend.cuda;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static jcuda.driver.JCudaDriver.*;

/**
 * One GPU through the CUDA driver API: its primary context, one stream for all work, our kernels loaded from the PTX
 * resources the build made with nvcc, and device memory that is freed on {@link #close()}. Every call that touches the
 * device first makes the context current, so the object may be built on one thread and used on another.
 */
final class CudaDevice implements AutoCloseable {
    /** The PTX modules the build puts under {@code /cuda/} (one per {@code src/main/cuda/*.cu}). */
    static final String[] MODULES = {"layers", "attention", "attention_mma", "matmul", "stream_gemm", "sampling",
            "kv_copy"};
    /** The tiled prefill attention: loaded where it can be, and a driver that rejects it only leaves it unused. */
    static final String PREFILL_MODULE = "attention_prefill";
    /** The sm_90a-only module (wgmma): its PTX targets exactly compute capability 9.0, so it is loaded only there. */
    static final String HOPPER_MODULE = "hopper_gemm";
    static final CUdeviceptr NULL = new CUdeviceptr();
    private static final Logger log = LoggerFactory.getLogger(CudaDevice.class);

    final int index;
    final String name;
    final int multiprocessors;
    final int computeCapability;
    /** The wgmma kernels of {@link #HOPPER_MODULE} are loaded (an H100 / H200). */
    final boolean hopper;
    /** The kernels of {@link #PREFILL_MODULE} are loaded. */
    final boolean tiledPrefill;
    private final CUcontext context = new CUcontext();
    final CUstream stream = new CUstream();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, Integer> sharedLimits = new HashMap<>();
    private final Map<String, Integer> occupancy = new HashMap<>();
    /** Set around a launch to name its shape in a profile. */
    String tag = "";
    private boolean programmaticLaunch;
    private List<String> profileLabels;
    private List<jcuda.driver.CUevent> profileEvents;
    private final List<CUdeviceptr> allocations = new ArrayList<>();

    private CudaDevice(int index) {
        this.index = index;
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        int[] count = {0};
        cuDeviceGetCount(count);
        if (index < 0 || index >= count[0]) {
            throw new IllegalArgumentException("cuda:" + index + " does not exist: this machine has " + count[0]
                    + " CUDA device(s)");
        }
        CUdevice device = new CUdevice();
        cuDeviceGet(device, index);
        byte[] raw = new byte[256];
        cuDeviceGetName(raw, raw.length, device);
        int len = 0;
        while (len < raw.length && raw[len] != 0) len++;
        this.name = new String(raw, 0, len, StandardCharsets.US_ASCII);
        this.multiprocessors = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.computeCapability = 10 * attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
                + attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        if (computeCapability < 80) {
            throw new IllegalStateException("cuda:" + index + " (" + name + ") has compute capability "
                    + computeCapability / 10 + "." + computeCapability % 10
                    + "; the BF16 tensor-core kernels need 8.0 or newer");
        }
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        cuStreamCreate(stream, 0);
        for (String m : MODULES) load("/cuda/" + m + (computeCapability >= 90 ? ".sm90.ptx" : ".sm80.ptx"));
        this.hopper = computeCapability == 90 && loadOptional("/cuda/" + HOPPER_MODULE + ".sm90a.ptx");
        this.tiledPrefill = loadOptional("/cuda/" + PREFILL_MODULE + (computeCapability >= 90 ? ".sm90.ptx" : ".sm80.ptx"));
    }

    /** Opens {@code cuda:index}; fails with a clear message when there is no driver, device or kernel resource. */
    static CudaDevice open(int index) {
        try {
            return new CudaDevice(index);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new IllegalStateException("the CUDA driver library could not be loaded (no NVIDIA driver here?): "
                    + e.getMessage(), e);
        }
    }

    /** True when a CUDA driver and at least one device are present; never throws. */
    static boolean available() {
        return count() > 0 && CudaDevice.class.getResource("/cuda/matmul.sm90.ptx") != null;
    }

    /** The CUDA devices visible to this process (after {@code CUDA_VISIBLE_DEVICES}); 0 without a driver. Never throws. */
    static int count() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = {0};
            cuDeviceGetCount(count);
            return count[0];
        } catch (Throwable t) {
            return 0;
        }
    }

    private static int attribute(CUdevice device, int attr) {
        int[] v = {0};
        cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    /** Loads a module that only speeds things up: a driver that rejects it leaves the device usable without it. */
    private boolean loadOptional(String resource) {
        try {
            load(resource);
            return true;
        } catch (CudaException e) {
            log.warn("cuda:{}: {} did not load ({}); its kernels stay unused", index, resource, e.getMessage());
            return false;
        }
    }

    private void load(String resource) {
        byte[] ptx;
        try (InputStream in = CudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel resource " + resource + " is missing: build gpu/ on a machine "
                        + "with nvcc on /usr/local/bin (the cuda-kernels Maven profile compiles src/main/cuda)");
            }
            byte[] body = in.readAllBytes();
            ptx = new byte[body.length + 1]; // cuModuleLoadData wants a NUL-terminated image
            System.arraycopy(body, 0, ptx, 0, body.length);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
        CUmodule m = new CUmodule();
        cuModuleLoadData(m, ptx);
        for (String fn : kernelNames(new String(ptx, StandardCharsets.US_ASCII))) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, m, fn);
            functions.put(fn, f);
        }
    }

    private static List<String> kernelNames(String ptx) {
        List<String> names = new ArrayList<>();
        for (String line : ptx.split("\n")) {
            int i = line.indexOf(".entry ");
            if (i < 0) continue;
            String rest = line.substring(i + 7).trim();
            int end = 0;
            while (end < rest.length() && (Character.isLetterOrDigit(rest.charAt(end)) || rest.charAt(end) == '_')) end++;
            names.add(rest.substring(0, end));
        }
        return names;
    }

    CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f == null) throw new IllegalStateException("kernel " + name + " is not in the loaded PTX modules");
        return f;
    }

    void makeCurrent() { cuCtxSetCurrent(context); }

    /** {@code [free, total]} bytes of device memory. */
    long[] memoryInfo() {
        makeCurrent();
        long[] free = {0};
        long[] total = {0};
        cuMemGetInfo(free, total);
        return new long[]{free[0], total[0]};
    }

    CUdeviceptr alloc(long bytes, String what) {
        makeCurrent();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, Math.max(bytes, 16));
        } catch (RuntimeException e) {
            long[] mem = memoryInfo();
            throw new IllegalStateException("out of GPU memory on cuda:" + index + " allocating " + what + " ("
                    + mib(bytes) + " MiB; " + mib(mem[0]) + " MiB free of " + mib(mem[1]) + " MiB)", e);
        }
        allocations.add(p);
        return p;
    }

    void free(CUdeviceptr p) {
        if (p == null || !allocations.remove(p)) return;
        makeCurrent();
        cuMemFree(p);
    }

    static long mib(long bytes) { return bytes >> 20; }

    /**
     * While set, kernels on the compute stream are launched with programmatic stream serialization (pdl.cuh: every
     * kernel waits for the one before it itself); {@link StepGraphs} sets it around a decode graph's capture.
     */
    void setProgrammaticLaunch(boolean on) { programmaticLaunch = on; }

    /**
     * Launches a kernel on the stream. Arguments: {@link CUdeviceptr} (null for a null pointer), Integer, Float.
     */
    void launch(String kernel, int gx, int gy, int gz, int block, Object... args) {
        launchShared(kernel, gx, gy, gz, block, 0, args);
    }

    /** {@link #launch} with {@code sharedBytes} of dynamic shared memory (above 48 KiB the kernel is opted in first). */
    void launchShared(String kernel, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
        launchOn(stream, kernel, gx, gy, gz, block, sharedBytes, args);
    }

    /** {@link #launchShared} on another stream than the compute stream (the KV copy stream). */
    void launchOn(CUstream on, String kernel, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
        CUfunction f = function(kernel);
        optIn(kernel, sharedBytes);
        if (programmaticLaunch && on == stream) {
            ProgrammaticLaunch.launch(f, gx, gy, gz, block, sharedBytes, on, args);
            if (profileEvents != null) mark(tag.isEmpty() ? kernel : kernel + " [" + tag + "]");
            return;
        }
        Pointer[] ptrs = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) ptrs[i] = Pointer.to(NULL);
            else if (a instanceof CUdeviceptr p) ptrs[i] = Pointer.to(p);
            else if (a instanceof Integer v) ptrs[i] = Pointer.to(new int[]{v});
            else if (a instanceof Float v) ptrs[i] = Pointer.to(new float[]{v});
            else if (a instanceof Long v) ptrs[i] = Pointer.to(new long[]{v});
            else if (a instanceof byte[] v) ptrs[i] = Pointer.to(v); // a struct passed by value (a tensor map)
            else throw new IllegalArgumentException("unsupported kernel argument " + a.getClass());
        }
        cuLaunchKernel(f, gx, gy, gz, block, 1, 1, sharedBytes, on, Pointer.to(ptrs), null);
        if (profileEvents != null && on == stream) mark(tag.isEmpty() ? kernel : kernel + " [" + tag + "]");
    }

    private void optIn(String kernel, int sharedBytes) {
        if (sharedBytes > 48 * 1024 && sharedLimits.getOrDefault(kernel, 0) < sharedBytes) {
            cuFuncSetAttribute(function(kernel),
                    jcuda.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
            sharedLimits.put(kernel, sharedBytes);
        }
    }

    /** How many blocks of this kernel one SM holds at once with this block size and dynamic shared memory. */
    int blocksPerSm(String kernel, int block, int sharedBytes) {
        return occupancy.computeIfAbsent(kernel + "/" + block + "/" + sharedBytes, k -> {
            optIn(kernel, sharedBytes);
            int[] n = {0};
            cuOccupancyMaxActiveBlocksPerMultiprocessor(n, function(kernel), block, sharedBytes);
            return Math.max(1, n[0]);
        });
    }

    /** From now on every launch is followed by an event record (also inside a stream capture), for a profile. */
    void startProfile() {
        profileLabels = new ArrayList<>();
        profileEvents = new ArrayList<>();
        mark("start");
    }

    /** Events recorded after the launches named by labels (index-aligned; the first one is the start). */
    record Profile(List<String> labels, List<jcuda.driver.CUevent> events) {}

    /** Stops recording after launches. */
    Profile stopProfile() {
        Profile p = new Profile(profileLabels, profileEvents);
        profileLabels = null;
        profileEvents = null;
        return p;
    }

    private void mark(String label) {
        jcuda.driver.CUevent e = new jcuda.driver.CUevent();
        cuEventCreate(e, 0);
        cuEventRecord(e, stream);
        profileEvents.add(e);
        profileLabels.add(label);
    }

    void synchronize() { cuStreamSynchronize(stream); }

    @Override
    public void close() {
        makeCurrent();
        try {
            cuStreamSynchronize(stream);
        } finally {
            for (CUdeviceptr p : allocations) cuMemFree(p);
            allocations.clear();
        }
    }
}

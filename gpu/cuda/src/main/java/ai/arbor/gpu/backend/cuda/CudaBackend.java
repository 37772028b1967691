package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GpuSampling;
import ai.arbor.gpu.backend.GreedyForward;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.Weights;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;

import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.*;

/**
 * Llama / Qwen2 / Qwen3 forward pass on one NVIDIA GPU through the CUDA driver API, with our own kernels
 * ({@code src/main/cuda}). Weights are bf16 on the device, the residual stream fp32, the paged KV cache bf16. The tokens
 * of every chunk in a batch are concatenated into one activation matrix, so each weight matrix is read once per step.
 * Decode steps are captured into CUDA graphs per padded batch size and replayed, since launching ~300 kernels one by
 * one through JCuda costs milliseconds of host time.
 */
public final class CudaBackend implements ComputeBackend, GreedyForward, GpuSampling {
    public static final double DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
    /** Decode batch sizes that get a CUDA graph; a batch is padded up to the next one. */
    private static final int[] GRAPH_BATCHES = {1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128};
    private static final int MAX_SPLITS = 16;
    private static final int STREAM_ROWS = 64;
    /** stream_gemm.cu's reduction tile: its `in` must be a multiple. */
    private static final int STREAM_GEMM_K = 64;
    private static final int RESERVED_TOKENS = 2048;
    private static final int RESERVED_LOGIT_ROWS = 256;

    private final ModelConfig config;
    private final CudaDevice dev;
    private final CudaWeights weights;
    private final CUdeviceptr invFreq;
    private final double gpuMemoryUtilization;
    private boolean useGraphs;
    /**
     * Matmul kernel for 3 or more rows: "gemm" (stream_gemm.cu: mma.sync on cp.async-staged tiles, stream-K over the
     * SMs, decode batches and prefill alike) or "tile" (the previous WMMA kernels: matmul_tile up to 64 rows, WMMA
     * tiles beyond), kept for comparison.
     */
    private String batchKernel = System.getProperty("arbor.cuda.batchKernel", "gemm");
    /**
     * stream_gemm kernel for 49..64 rows: "stream_gemm8" or one of the candidates in {@link #GEMM64}
     * (-Darbor.cuda.gemm64=NAME; swept on the GPU at commits 06f971a and 950f8eb, see NOTES.md).
     */
    private String gemm64 = System.getProperty("arbor.cuda.gemm64", "stream_gemm8");
    /** stream_gemm.cu's 64-row candidates: name -> {mw, stages, wn, lo (1: x as hi + lo, 0: hi only)}. */
    static final java.util.Map<String, int[]> GEMM64 = new java.util.LinkedHashMap<>();
    static {
        GEMM64.put("stream_gemm8", new int[]{2, 3, 2, 1});
        GEMM64.put("stream_gemm8_m2_s2_w2_b3", new int[]{2, 2, 2, 1});
        GEMM64.put("stream_gemm8_m4_s3_w4", new int[]{4, 3, 4, 1});
        GEMM64.put("stream_gemm8_m4_s2_w4_b3", new int[]{4, 2, 4, 1});
        GEMM64.put("stream_gemm8_m4_s2_w2_b2", new int[]{4, 2, 2, 1});
        GEMM64.put("stream_gemm8_m2_s3_w2_b3_hi", new int[]{2, 3, 2, 0});
        GEMM64.put("stream_gemm8_m2_s4_w2_b2_hi", new int[]{2, 4, 2, 0});
        GEMM64.put("stream_gemm8_m4_s2_w2_b2_hi", new int[]{4, 2, 2, 0});
    }
    private int attentionSplits = Integer.getInteger("arbor.cuda.attentionSplits", 0);
    /**
     * Query-head parts per KV head of the grouped attention when not on tensor cores (1: one block takes all g heads of
     * a KV head; 2: two blocks take g / 2 each, fewer registers, more warps per SM); only where g divides. 2 was faster
     * at batch 64 (15.6 -> 13.3 us) but slower than attentionMma, and moved one tiny-qwen2 top-1 below the self-check's bar.
     */
    private int attentionParts = Integer.getInteger("arbor.cuda.attentionParts", 1);
    /**
     * stream_gemm's weight-load hints (stream_gemm.cu, kernels _h1.._h3): 0 none, 1 L2 256-byte prefetch, 2 L2
     * evict_first (default: batch 64 +1.4% in turns with 0), 3 both.
     */
    private int gemmHint = Integer.getInteger("arbor.cuda.gemmHint", 2);
    /**
     * Grouped attention on tensor cores (attention_mma.cu) where it applies: bf16 cache, head_dim 32, 64 or 128,
     * g <= 8, 3+ rows (batch 64: 15.6 -> 10.9 us a layer; 2048-token prefill 92 -> 58 ms). false: paged_attention_gqa.
     */
    private boolean attentionMma = !"false".equals(System.getProperty("arbor.cuda.attentionMma"));
    /** Warps per block of the grouped decode attention: 4 or 8 (paged_attention_gqa*_w8). */
    private int attentionWarps = Integer.getInteger("arbor.cuda.attentionWarps", 4);
    /** attention_combine also writes the o projection's bf16 hi / lo input, replacing its split_bf16 launch. */
    private boolean fuseOSplit = !"false".equals(System.getProperty("arbor.cuda.fuseOSplit"));
    /**
     * Threads per block (one block per row) of rope_kv_write: a warp per head, so 32 * (heads + KV heads) rounded up
     * runs every head at once (512 for 12 + 2 heads; was 128: each warp 3-4 heads in turn).
     */
    private int ropeThreads = Integer.getInteger("arbor.cuda.ropeThreads", 512);
    /** Set while the o projection runs after a combine that wrote xHi / xLo (one-shot, see fuseOSplit). */
    private boolean preSplit;
    /** One or two rows: fold SwiGLU into the gate/up gemv (a launch fewer per layer, x read once for gate and up). */
    private boolean fuseSmallBatches = !"false".equals(System.getProperty("arbor.cuda.fuseSmall"));
    /** Attention grouped by KV head (paged_attention_gqa*) where it applies (bf16 cache, head_dim 32..256, g <= 8). */
    /** One or two rows: the input RMSNorm folded into the qkv and gate/up gemvs (no rmsnorm launches). */
    private boolean fuseSmallNorm = !"false".equals(System.getProperty("arbor.cuda.fuseNorm"));
    /** One or two rows, no q/k norm: RoPE and the K/V cache write in the qkv gemv's epilogue (no rope_kv_write launch). */
    private boolean fuseSmallRope = !"false".equals(System.getProperty("arbor.cuda.fuseRope"));
    /** Greedy argmax over several blocks per row (argmax_part + argmax_final) instead of one block per row. */
    private boolean splitArgmax = !"false".equals(System.getProperty("arbor.cuda.splitArgmax"));
    private static final int ARGMAX_PARTS = 64;
    /**
     * Blocks per SM the gemv's warp split aims for (more warps per output row for matrices with few rows): 16 gives
     * down_proj 8 warps per row and gate/up 2 at one row (batch 1, same runs: 4 -> 517-530, 8 -> 531-546,
     * 16 -> 537-553 tok/s).
     */
    private int gemvBlocksPerSm = Integer.getInteger("arbor.cuda.gemvBlocksPerSm", 16);
    /** Per-head decode attention of one or two rows: key splits (0: the default rule). */
    private int smallAttentionSplits = Integer.getInteger("arbor.cuda.smallAttentionSplits", 0);
    private boolean groupedAttention = !"false".equals(System.getProperty("arbor.cuda.groupedAttention"));
    private final int kvBytes;
    private final String kvSuffix;
    private final float eps;
    private final int qkvDim;
    private final boolean streamable;
    private final boolean gemmable;

    private CUdeviceptr kCache;
    private CUdeviceptr vCache;
    private int numBlocks;
    private int blockSize;
    private long layerStride; // elements of one layer's K (or V) cache, scratch block included

    private int capTokens;
    private int capLogitRows;
    private int capMetaInts;
    private CUdeviceptr meta, x, h, qkv, attn, gateUp, act, last, logits, partAcc, partMl, argmax, argmaxPart, xHi, xLo;
    private int capSplitRows;
    private StepInputs lastInputs;
    private final Map<Long, CUgraphExec> graphs = new HashMap<>();
    private CUdeviceptr samplingParams;
    private int samplingParamsInts;

    /** The model on {@code cuda:deviceIndex}, with graphs for decode steps. */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization) {
        this(config, weights, deviceIndex, gpuMemoryUtilization, true);
    }

    /**
     * @param gpuMemoryUtilization the fraction of the device's memory this backend may fill (weights, activations and
     *                             KV cache together), like vLLM's {@code --gpu-memory-utilization}
     */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization,
                       boolean useGraphs) {
        this(config, weights, deviceIndex, gpuMemoryUtilization, useGraphs, false);
    }

    /**
     * @param kvFloat32 keep the KV cache in fp32 instead of bf16: twice the memory, for checking numerics
     */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization,
                       boolean useGraphs, boolean kvFloat32) {
        if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)) {
            throw new IllegalArgumentException("gpu-memory-utilization must be in (0, 1], got " + gpuMemoryUtilization);
        }
        if (config.headDim() % 32 != 0 || config.headDim() > 256) {
            throw new IllegalArgumentException("the CUDA attention kernel needs head_dim a multiple of 32 up to 256, got "
                    + config.headDim());
        }
        if (config.numHeads() % config.numKvHeads() != 0) {
            throw new IllegalArgumentException("num_attention_heads " + config.numHeads()
                    + " is not a multiple of num_key_value_heads " + config.numKvHeads());
        }
        if (config.intermediateSize() % 8 != 0 || config.hiddenSize() % 8 != 0) {
            throw new IllegalArgumentException("the CUDA kernels need hidden and intermediate sizes that are multiples of 8");
        }
        this.config = config;
        this.gpuMemoryUtilization = gpuMemoryUtilization;
        this.useGraphs = useGraphs;
        this.kvBytes = kvFloat32 ? 4 : 2;
        this.kvSuffix = kvFloat32 ? "_f32" : "_bf16";
        this.eps = (float) config.rmsNormEps();
        this.qkvDim = config.qDim() + 2 * config.kvDim();
        this.streamable = config.hiddenSize() % 16 == 0 && config.qDim() % 16 == 0 && qkvDim % 16 == 0
                && config.intermediateSize() % 16 == 0 && config.vocabSize() % 16 == 0;
        // every matmul whose input is fused into split_bf16 (q/k/v, gate/up, down) takes stream_gemm's shapes
        this.gemmable = config.hiddenSize() % STREAM_GEMM_K == 0 && config.intermediateSize() % STREAM_GEMM_K == 0
                && qkvDim % 16 == 0;
        this.dev = CudaDevice.open(deviceIndex);
        try {
            long[] mem = dev.memoryInfo();
            long need = CudaWeights.matrixBytes(config) + workspaceBytes(RESERVED_TOKENS, RESERVED_LOGIT_ROWS);
            long allowed = (long) (mem[1] * gpuMemoryUtilization) - (mem[1] - mem[0]);
            if (need > allowed) {
                throw new IllegalStateException(String.format(
                        "the model does not fit on cuda:%d (%s): weights and activations need %.2f GiB, but "
                                + "gpu-memory-utilization %.2f of %.2f GiB with %.2f GiB already in use leaves %.2f GiB",
                        deviceIndex, dev.name, gib(need), gpuMemoryUtilization, gib(mem[1]), gib(mem[1] - mem[0]),
                        gib(Math.max(0, allowed))));
            }
            this.weights = CudaWeights.upload(dev, config, weights);
            float[] inv = RopeFrequencies.of(config.ropeTheta(), config.headDim(), config.ropeScaling());
            this.invFreq = dev.alloc(inv.length * 4L, "rope frequencies");
            cuMemcpyHtoD(invFreq, Pointer.to(inv), inv.length * 4L);
            ensureWorkspace(RESERVED_TOKENS, RESERVED_LOGIT_ROWS, 4096);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    /** The device index of a {@code --device} value {@code cuda:N} (or {@code cuda} for device 0). */
    public static int deviceIndex(String device) {
        if (device.equals("cuda")) return 0;
        if (device.startsWith("cuda:")) {
            try {
                int i = Integer.parseInt(device.substring(5));
                if (i >= 0) return i;
            } catch (NumberFormatException ignored) {
                // reported below
            }
        }
        throw new IllegalArgumentException("device '" + device + "' is not of the form cuda:N");
    }

    /** True when a CUDA device and our compiled kernels are present (never throws). */
    public static boolean isAvailable() { return CudaDevice.available(); }

    @Override
    public String name() { return "cuda:" + dev.index; }

    public String deviceName() { return dev.name; }

    /** Bytes of weight matrices one decode step streams (the roofline's denominator). */
    public long weightBytes() { return weights.bytes(); }

    /** Turns CUDA graphs for decode steps on or off (for measuring what they save). */
    public void setUseGraphs(boolean on) { this.useGraphs = on; }

    CudaDevice device() { return dev; }

    void setGemm64(String kernel) {
        if (!GEMM64.containsKey(kernel)) throw new IllegalArgumentException(kernel);
        this.gemm64 = kernel;
        dropGraphs();
    }

    String gemm64() { return gemm64; }

    void setAttentionParts(int parts) {
        this.attentionParts = parts;
        dropGraphs();
    }

    void setAttentionMma(boolean on) {
        this.attentionMma = on;
        dropGraphs();
    }

    void setGemmHint(int hint) {
        if (hint < 0 || hint > 3) throw new IllegalArgumentException("gemm hint " + hint);
        this.gemmHint = hint;
        dropGraphs();
    }

    void setAttentionWarps(int warps) {
        this.attentionWarps = warps;
        dropGraphs();
    }

    void setRopeThreads(int threads) {
        this.ropeThreads = threads;
        dropGraphs();
    }

    void setFuseOSplit(boolean on) {
        this.fuseOSplit = on;
        dropGraphs();
    }

    /** Attention key splits for n >= 3 rows (0: the default rule), for the benchmark's sweep. */
    void setAttentionSplits(int splits) {
        this.attentionSplits = splits;
        dropGraphs();
    }

    void setBatchKernel(String kernel) {
        this.batchKernel = kernel;
        dropGraphs();
    }

    void setGroupedAttention(boolean on) {
        this.groupedAttention = on;
        dropGraphs();
    }

    void setFuseSmallBatches(boolean on) {
        this.fuseSmallBatches = on;
        dropGraphs();
    }

    /** One or two rows: RMSNorm folded into the qkv and gate/up gemvs, RoPE + K/V write into the qkv gemv. */
    void setGemvTuning(int blocksPerSm, int smallAttentionSplits) {
        this.gemvBlocksPerSm = blocksPerSm;
        this.smallAttentionSplits = smallAttentionSplits;
        dropGraphs();
    }

    void setSplitArgmax(boolean argmax) {
        this.splitArgmax = argmax;
        dropGraphs();
    }

    void setFuseSmallNormRope(boolean norm, boolean rope) {
        this.fuseSmallNorm = norm;
        this.fuseSmallRope = rope;
        dropGraphs();
    }

    @Override
    public long kvBlockBytes(int blockSize) {
        return (long) blockSize * config.numLayers() * 2L * config.kvDim() * kvBytes; // K and V
    }

    @Override
    public int availableKvBlocks(int blockSize) {
        long[] mem = dev.memoryInfo();
        long current = kCache == null ? 0 : 2 * config.numLayers() * layerStride * kvBytes;
        long budget = (long) (mem[1] * gpuMemoryUtilization) - (mem[1] - mem[0]) + current;
        long blocks = budget / kvBlockBytes(blockSize) - 1; // one scratch block for padded graph rows
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE / 2, blocks));
    }

    @Override
    public java.util.Optional<ai.arbor.gpu.backend.KvBlockCopier> kvBlockCopier() {
        return kCache == null ? java.util.Optional.empty() : java.util.Optional.of(new CudaKvBlockCopier(dev, kCache,
                vCache, layerStride, blockSize, config.kvDim(), kvBytes, config.numLayers(), numBlocks));
    }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        if (numBlocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("KV cache needs numBlocks >= 1 and blockSize >= 1, got "
                    + numBlocks + " x " + blockSize);
        }
        dev.makeCurrent();
        dev.synchronize();
        dropGraphs();
        dev.free(kCache);
        dev.free(vCache);
        kCache = null;
        vCache = null;
        this.layerStride = (long) (numBlocks + 1) * blockSize * config.kvDim();
        long bytes = config.numLayers() * layerStride * kvBytes;
        kCache = dev.alloc(bytes, "the K cache (" + numBlocks + " blocks of " + blockSize + ")");
        vCache = dev.alloc(bytes, "the V cache (" + numBlocks + " blocks of " + blockSize + ")");
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
    }

    @Override
    public float[][] forward(ForwardBatch batch) {
        StepInputs s = run(batch);
        int vocab = config.vocabSize();
        float[] flat = new float[s.realM() * vocab];
        if (flat.length > 0) cuMemcpyDtoH(Pointer.to(flat), logits, (long) flat.length * 4);
        float[][] out = new float[s.realM()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new float[vocab];
            System.arraycopy(flat, i * vocab, out[i], 0, vocab);
        }
        return out;
    }

    @Override
    public int[] forwardGreedy(ForwardBatch batch) {
        StepInputs s = run(batch);
        int[] ids = new int[s.realM()];
        if (ids.length > 0) cuMemcpyDtoH(Pointer.to(ids), argmax, ids.length * 4L);
        return ids;
    }

    @Override
    public int[] forwardSample(ForwardBatch batch, float[] temperature, int[] topK, float[] topP, float[] uniform) {
        StepInputs s = run(batch);
        return sampleLogits(s.realM(), temperature, topK, topP, uniform);
    }

    /** Samples the first {@code rows} rows of the logits the last forward pass left on the device. */
    int[] sampleLogits(int rows, float[] temperature, int[] topK, float[] topP, float[] uniform) {
        if (temperature.length < rows || topK.length < rows || topP.length < rows || uniform.length < rows) {
            throw new IllegalArgumentException("sampling parameters for " + rows + " rows are missing");
        }
        if (rows == 0) return new int[0];
        dev.makeCurrent();
        int[] packed = new int[4 * rows];
        for (int i = 0; i < rows; i++) {
            if (!(topP[i] > 0 && topP[i] <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP[i]);
            if (!(uniform[i] >= 0 && uniform[i] < 1)) throw new IllegalArgumentException("uniform must be in [0, 1), got " + uniform[i]);
            packed[i] = Float.floatToRawIntBits(temperature[i]);
            packed[rows + i] = topK[i];
            packed[2 * rows + i] = Float.floatToRawIntBits(topP[i]);
            packed[3 * rows + i] = Float.floatToRawIntBits(uniform[i]);
        }
        if (samplingParams == null || samplingParamsInts < packed.length) {
            dev.free(samplingParams);
            samplingParamsInts = Math.max(packed.length, 4 * capLogitRows);
            samplingParams = dev.alloc(4L * samplingParamsInts, "sampling parameters");
        }
        cuMemcpyHtoD(samplingParams, Pointer.to(packed), 4L * packed.length);
        dev.launch("sample_rows", rows, 1, 1, 1024, logits, config.vocabSize(), samplingParams,
                samplingParams.withByteOffset(4L * rows), samplingParams.withByteOffset(8L * rows),
                samplingParams.withByteOffset(12L * rows), argmax);
        int[] ids = new int[rows];
        cuMemcpyDtoH(Pointer.to(ids), argmax, 4L * rows);
        return ids;
    }

    /** Copies the first {@code rows} logits rows of the last forward pass to the host (for checks). */
    float[] lastLogits(int rows) {
        float[] flat = new float[rows * config.vocabSize()];
        cuMemcpyDtoH(Pointer.to(flat), logits, 4L * flat.length);
        return flat;
    }

    /** Uploads the step's inputs and runs the forward pass (a graph replay for decode steps), leaving logits on the GPU. */
    private StepInputs run(ForwardBatch batch) {
        if (kCache == null) throw new IllegalStateException("allocateKvCache must be called before forward");
        dev.makeCurrent();
        boolean graph = useGraphs && StepInputs.isDecode(batch) && batch.chunks().size() <= GRAPH_BATCHES[GRAPH_BATCHES.length - 1];
        StepInputs s = upload(batch, graph);
        if (graph) {
            long key = ((long) s.n() << 32) | s.width();
            CUgraphExec exec = graphs.get(key);
            if (exec == null) {
                exec = capture(s);
                graphs.put(key, exec);
            }
            cuGraphLaunch(exec, dev.stream);
        } else {
            encode(s);
        }
        return s;
    }

    /** The step's inputs on the device (padded to a graph's batch size when graph is set). */
    private StepInputs upload(ForwardBatch batch, boolean graph) {
        int padTo = 0;
        int minWidth = 1;
        if (graph) {
            for (int b : GRAPH_BATCHES) {
                if (b >= batch.chunks().size()) { padTo = b; break; }
            }
            int longest = 0;
            for (var c : batch.chunks()) longest = Math.max(longest, (c.endPosition() + blockSize - 1) / blockSize);
            minWidth = Integer.highestOneBit(Math.max(1, longest - 1)) * 2; // next power of two: few graphs
            if (minWidth < longest) minWidth = longest;
        }
        StepInputs s = StepInputs.of(batch, config.vocabSize(), numBlocks, blockSize, padTo, minWidth, numBlocks);
        if (ensureWorkspace(s.n(), s.m(), s.packed().length)) dropGraphs();
        cuMemcpyHtoD(meta, Pointer.to(s.packed()), s.packed().length * 4L);
        lastInputs = s;
        return s;
    }

    /**
     * GPU time per kernel of one decode step (eager launches queued behind a spin kernel, an event after each):
     * one line per kernel and shape (launches, total microseconds), largest first, and the step's total.
     */
    String profileDecode(ForwardBatch batch) {
        if (kCache == null) throw new IllegalStateException("allocateKvCache must be called before forward");
        dev.makeCurrent();
        StepInputs s = upload(batch, true);
        encode(s); // kernels loaded and opted in
        dev.synchronize();
        // the GPU waits ~50 ms while the host enqueues the step with an event after every kernel, then runs it back
        // to back: per-kernel times without the host's launch gaps
        dev.launch("spin", 1, 1, 1, 32, 100_000_000L);
        dev.startProfile();
        encode(s);
        CudaDevice.Profile p = dev.stopProfile();
        dev.synchronize();
        Map<String, double[]> by = new java.util.LinkedHashMap<>();
        float[] ms = {0};
        for (int i = 1; i < p.events().size(); i++) {
            cuEventElapsedTime(ms, p.events().get(i - 1), p.events().get(i));
            double[] a = by.computeIfAbsent(p.labels().get(i), k -> new double[2]);
            a[0]++;
            a[1] += 1000.0 * ms[0];
        }
        cuEventElapsedTime(ms, p.events().get(0), p.events().get(p.events().size() - 1));
        double total = 1000.0 * ms[0];
        for (jcuda.driver.CUevent e : p.events()) cuEventDestroy(e);
        StringBuilder out = new StringBuilder(String.format("decode step, %d rows: %.0f us on the GPU%n", s.n(), total));
        by.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1])).limit(16)
                .forEach(e -> out.append(String.format("  %-44s %4.0f x %7.1f us = %6.0f us (%4.1f%%)%n", e.getKey(),
                        e.getValue()[0], e.getValue()[1] / e.getValue()[0], e.getValue()[1], 100 * e.getValue()[1] / total)));
        return out.toString();
    }

    /** Mean GPU microseconds of what enqueue launches, replayed reps times from one CUDA graph. */
    private double graphMicros(Runnable enqueue, int reps) {
        enqueue.run(); // loads and opt-ins outside the capture
        dev.synchronize();
        CUgraph g = new CUgraph();
        cuStreamBeginCapture(dev.stream, jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            for (int r = 0; r < reps; r++) enqueue.run();
        } finally {
            cuStreamEndCapture(dev.stream, g);
        }
        CUgraphExec exec = new CUgraphExec();
        cuGraphInstantiate(exec, g, 0);
        cuGraphDestroy(g);
        jcuda.driver.CUevent e0 = new jcuda.driver.CUevent(), e1 = new jcuda.driver.CUevent();
        cuEventCreate(e0, 0);
        cuEventCreate(e1, 0);
        cuGraphLaunch(exec, dev.stream);
        cuEventRecord(e0, dev.stream);
        cuGraphLaunch(exec, dev.stream);
        cuEventRecord(e1, dev.stream);
        cuEventSynchronize(e1);
        float[] ms = {0};
        cuEventElapsedTime(ms, e0, e1);
        cuGraphExecDestroy(exec);
        cuEventDestroy(e0);
        cuEventDestroy(e1);
        return 1000.0 * ms[0] / reps;
    }

    private CUgraphExec capture(StepInputs s) {
        encode(s); // a first eager run: kernels are loaded and the step's results are valid either way
        dev.synchronize();
        CUgraph g = new CUgraph();
        cuStreamBeginCapture(dev.stream, jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            encode(s);
        } finally {
            cuStreamEndCapture(dev.stream, g);
        }
        CUgraphExec exec = new CUgraphExec();
        cuGraphInstantiate(exec, g, 0);
        cuGraphDestroy(g);
        return exec;
    }

    /** Every kernel of one forward pass, in order: the part a CUDA graph captures. */
    private void encode(StepInputs s) {
        int n = s.n();
        int hidden = config.hiddenSize();
        int inter = config.intermediateSize();
        int heads = config.numHeads();
        int headDim = config.headDim();
        CUdeviceptr ids = ints(s.idsOffset());
        CUdeviceptr positions = ints(s.positionsOffset());
        CUdeviceptr slots = ints(s.slotsOffset());
        CUdeviceptr seqOfToken = ints(s.seqOfTokenOffset());
        CUdeviceptr tables = ints(s.tablesOffset());
        boolean gemm = batchKernel.equals("gemm") && gemmable;
        // 3+ rows fold RMSNorm and SwiGLU into the bf16 split of the projections' input; one or two rows fold them
        // into the gemv's epilogues instead (a norm inside the gemv would re-read x per output row: measured slower)
        boolean fused = n > 2 && (gemm || (n <= STREAM_ROWS && streamable));
        boolean small = n <= 2 && fuseSmallBatches;

        dev.launch("embedding", n, 1, 1, 256, weights.embedTokens(), ids, x, hidden);
        for (int l = 0; l < config.numLayers(); l++) {
            CudaWeights.Layer w = weights.layers()[l];
            CUdeviceptr kc = kCache.withByteOffset(l * layerStride * kvBytes);
            CUdeviceptr vc = vCache.withByteOffset(l * layerStride * kvBytes);
            // attention block: x += o_proj(attention(rope(q), rope(k), v)), K/V written into the paged cache
            if (fused) {
                matmul(x, w.inputNorm(), false, w.qkvProj(), w.qkvBias(), qkv, n, hidden, qkvDim, false);
            } else if (small && fuseSmallRope && w.qNorm() == null && w.kNorm() == null) {
                // one launch: RMSNorm folded in, q/k/v, RoPE, K/V written into the cache at each row's own slot
                CUdeviceptr in = x, norm = w.inputNorm();
                if (!fuseSmallNorm) {
                    dev.launch("rmsnorm", n, 1, 1, 256, x, w.inputNorm(), h, null, hidden, eps);
                    in = h;
                    norm = null;
                }
                int ks = gemvSplit(hidden, qkvDim / 2);
                dev.tag = hidden + "x" + qkvDim + "+rope";
                dev.launch("matmul_qkv_rope" + n, (qkvDim / 2 + 8 / ks - 1) / (8 / ks), 1, 1, 256, in, norm, eps,
                        w.qkvProj(), w.qkvBias(), qkv, n, hidden, qkvDim, ks, positions, slots, invFreq, kc, vc, heads,
                        config.numKvHeads(), headDim, kvSuffix.equals("_f32") ? 1 : 0);
                dev.tag = "";
            } else {
                dev.launch("rmsnorm", n, 1, 1, 256, x, w.inputNorm(), h, null, hidden, eps);
                matmul(h, null, false, w.qkvProj(), w.qkvBias(), qkv, n, hidden, qkvDim, false);
            }
            if (!(small && fuseSmallRope && w.qNorm() == null && w.kNorm() == null) || fused) {
                dev.launch("rope_kv_write" + kvSuffix, n, 1, 1, ropeThreads, qkv, positions, slots, invFreq, w.qNorm(), w.kNorm(),
                        eps, kc, vc, heads, config.numKvHeads(), headDim);
            }
            preSplit = attention(s, kc, vc, groupedAttention, 0) && fuseOSplit;
            try {
                matmul(attn, null, false, w.oProj(), w.oBias(), x, n, config.qDim(), hidden, true);
            } finally {
                preSplit = false;
            }
            // MLP block: x += down_proj(silu(gate_proj(h)) * up_proj(h))
            if (small) {
                CUdeviceptr in = x, norm = w.postAttentionNorm();
                if (!fuseSmallNorm) {
                    dev.launch("rmsnorm", n, 1, 1, 256, x, w.postAttentionNorm(), h, null, hidden, eps);
                    in = h;
                    norm = null;
                }
                int ks = gemvSplit(hidden, inter);
                dev.tag = hidden + "x" + inter + "x2";
                dev.launch("matmul_glu" + n, (inter + 8 / ks - 1) / (8 / ks), 1, 1, 256, in, norm, eps, w.gateUpProj(),
                        w.gateUpBias(), act, n, hidden, inter, ks);
                dev.tag = "";
                matmul(act, null, false, w.downProj(), w.downBias(), x, n, inter, hidden, true);
            } else if (fused) {
                matmul(x, w.postAttentionNorm(), false, w.gateUpProj(), w.gateUpBias(), gateUp, n, hidden, 2 * inter, false);
                matmul(gateUp, null, true, w.downProj(), w.downBias(), x, n, inter, hidden, true);
            } else {
                dev.launch("rmsnorm", n, 1, 1, 256, x, w.postAttentionNorm(), h, null, hidden, eps);
                matmul(h, null, false, w.gateUpProj(), w.gateUpBias(), gateUp, n, hidden, 2 * inter, false);
                int elems = n * inter;
                dev.launch("swiglu", Math.min((elems + 255) / 256, 32 * dev.multiprocessors), 1, 1, 256, gateUp, act, n, inter);
                matmul(act, null, false, w.downProj(), w.downBias(), x, n, inter, hidden, true);
            }
        }
        if (s.m() > 0) {
            dev.launch("rmsnorm", s.m(), 1, 1, 256, x, weights.finalNorm(), last, ints(s.logitRowsOffset()), hidden, eps);
            matmul(last, null, false, weights.lmHead(), null, logits, s.m(), hidden, config.vocabSize(), false);
            if (splitArgmax) {
                // the rows split over blocks: one block per row took ~60 us for a 152k vocabulary
                dev.launch("argmax_part", s.m(), ARGMAX_PARTS, 1, 256, logits, config.vocabSize(), argmaxPart,
                        argmaxPart.withByteOffset(4L * capLogitRows * ARGMAX_PARTS));
                dev.launch("argmax_final", s.m(), 1, 1, 32, argmaxPart,
                        argmaxPart.withByteOffset(4L * capLogitRows * ARGMAX_PARTS), ARGMAX_PARTS, argmax);
            } else {
                dev.launch("argmax_rows", s.m(), 1, 1, 1024, logits, config.vocabSize(), argmax);
            }
        }
    }

    /** attn = softmax(q k^T / sqrt(d)) v over each token's cached positions, K/V of layer kc / vc. */
    /** @return whether attention_combine also wrote the output's bf16 hi / lo split (xHi, xLo) */
    private boolean attention(StepInputs s, CUdeviceptr kc, CUdeviceptr vc, boolean grouped, int splitsOverride) {
        int n = s.n();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int headDim = config.headDim();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        CUdeviceptr positions = ints(s.positionsOffset());
        CUdeviceptr seqOfToken = ints(s.seqOfTokenOffset());
        CUdeviceptr tables = ints(s.tablesOffset());
        int splits;
        if (grouped && kvBytes == 2 && heads / kvHeads <= 8 && Integer.bitCount(headDim) == 1 && headDim >= 32
                && headDim <= 256 && n >= 3) { // one or two rows: the per-head kernel measured faster
            int g = heads / kvHeads;
            boolean mma = attentionMma && (headDim == 32 || headDim == 64 || headDim == 128);
            int parts = !mma && attentionParts > 1 && g % attentionParts == 0 ? attentionParts : 1;
            // blocks per (token, KV head, head part); split the keys until there are blocks for every SM twice, but
            // keep 32 or more positions per split (the table width bounds the context: a graph serves many steps)
            int perSplit = n * kvHeads * parts;
            splits = Math.max(1, Math.min(Math.min(MAX_SPLITS, (2 * dev.multiprocessors + perSplit - 1) / perSplit),
                    s.width() * blockSize / 32));
            if (splitsOverride > 0) splits = splitsOverride;
            else if (attentionSplits > 0) splits = attentionSplits;
            splits = Math.max(1, Math.min(splits, (2 * dev.multiprocessors + MAX_SPLITS * heads) * MAX_SPLITS / (n * heads)));
            int gp = g / parts;
            int bucket = gp <= 2 ? 2 : gp <= 3 ? 3 : gp <= 4 ? 4 : gp <= 6 ? 6 : 8;
            // attention_mma.cu: 4 warps x 2 stages x K and V tiles of 16 positions, and q as 16 bf16 rows
            if (mma) dev.launchShared("paged_attention_mma" + headDim, n, kvHeads, splits, 128, (16 + 1) * 16 * headDim * 2, qkv, attn,
                    partAcc, partMl, positions, seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, scale);
            else dev.launch("paged_attention_gqa" + headDim + "_" + bucket + (attentionWarps == 4 ? "" : "_w" + attentionWarps),
                    n, kvHeads * parts, splits, 32 * attentionWarps, qkv, attn, partAcc,
                    partMl, positions, seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, scale);
        } else {
            splits = n * heads >= 2 * dev.multiprocessors ? 1
                    : Math.min(MAX_SPLITS, (2 * dev.multiprocessors + n * heads - 1) / (n * heads));
            if (n <= 2 && smallAttentionSplits > 0) splits = Math.min(MAX_SPLITS, smallAttentionSplits);
            dev.launch("paged_attention" + kvSuffix, n, heads, splits, 128, qkv, attn, partAcc, partMl, positions,
                    seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, headDim, scale);
        }
        // the o projection's bf16 split written by the combine (stream_gemm path only: n >= 3, "gemm" kernels)
        boolean split = fuseOSplit && splits > 1 && n >= 3 && batchKernel.equals("gemm")
                && config.qDim() % STREAM_GEMM_K == 0 && config.hiddenSize() % 16 == 0;
        if (splits > 1) dev.launch("attention_combine", n, heads, 1, headDim, partAcc, partMl, attn, heads, headDim, splits,
                split ? xHi : null, split ? xLo : null);
        return split;
    }

    /** GPU microseconds of one layer's attention for the last step's inputs: per-head, then grouped at 1..16 splits. */
    String timeAttention() {
        dev.makeCurrent();
        if (lastInputs == null) return "";
        StringBuilder out = new StringBuilder(String.format("attention, %d rows (graph-timed): per-head %.1f us; grouped:",
                lastInputs.n(), graphMicros(() -> attention(lastInputs, kCache, vCache, false, 0), 20)));
        for (int sp : new int[]{0, 1, 2, 3, 4, 6, 8}) {
            out.append(String.format(" %s %.1f us;", sp == 0 ? "default" : sp + " splits",
                    graphMicros(() -> attention(lastInputs, kCache, vCache, true, sp), 20)));
        }
        return out.append('\n').toString();
    }

    /**
     * Max |grouped - per-head| / max |per-head| of the attention output for the last step's inputs as the last
     * forward pass left them (the last layer's q, layer 0's cache: any consistent inputs do): a kernel check.
     */
    double compareAttention() {
        dev.makeCurrent();
        if (lastInputs == null) return Double.NaN;
        int len = lastInputs.n() * config.qDim();
        float[][] out = new float[2][len];
        for (int k = 0; k < 2; k++) {
            attention(lastInputs, kCache, vCache, k == 1, 0);
            cuMemcpyDtoH(Pointer.to(out[k]), attn, 4L * len);
        }
        double max = 0, diff = 0;
        for (int e = 0; e < len; e++) {
            max = Math.max(max, Math.abs(out[0][e]));
            diff = Math.max(diff, Math.abs(out[0][e] - out[1][e]));
        }
        return Double.isFinite(diff) && max > 0 ? diff / max : Double.POSITIVE_INFINITY;
    }

    /**
     * Warps per output row of the gemv: more for matrices with few rows (down_proj, o_proj), so that there are blocks
     * for every SM several times over, as long as each warp still streams 64 or more 16-byte chunks.
     */
    private int gemvSplit(int in, int out) {
        int ks = 1;
        while (ks < 8 && (long) out * ks / 8 < (long) gemvBlocksPerSm * dev.multiprocessors && in / 8 / (2 * ks) >= 64) ks *= 2;
        return ks;
    }

    /**
     * {@code y (+)= x . W^T + bias}: a weight-streaming gemv for one or two rows, the tensor-core weight-streaming GEMM
     * for more (norm / gated: its input is RMSNorm(x) * norm or silu(gate) * up, folded into the bf16 split).
     */
    private void matmul(CUdeviceptr xIn, CUdeviceptr norm, boolean gated, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr y,
                        int n, int in, int out, boolean accumulate) {
        dev.tag = in + "x" + out;
        try {
            matmulUntagged(xIn, norm, gated, w, bias, y, n, in, out, accumulate);
        } finally {
            dev.tag = "";
        }
    }

    private void matmulUntagged(CUdeviceptr xIn, CUdeviceptr norm, boolean gated, CUdeviceptr w, CUdeviceptr bias,
                                CUdeviceptr y, int n, int in, int out, boolean accumulate) {
        int acc = accumulate ? 1 : 0;
        int gate = gated ? 1 : 0;
        if (n <= 2) {
            if (norm != null || gated) throw new IllegalStateException("fused matmul inputs need three or more rows");
            int ks = gemvSplit(in, out);
            dev.launch("matmul_gemv" + n, (out + 8 / ks - 1) / (8 / ks), 1, 1, 256, xIn, w, bias, y, n, in, out, acc, ks);
        } else if (batchKernel.equals("gemm") && in % STREAM_GEMM_K == 0 && out % 16 == 0) {
            int nt = n <= 8 ? 1 : n <= 16 ? 2 : n <= 24 ? 3 : n <= 32 ? 4 : n <= 48 ? 6 : 8;
            int slices = (n + 8 * nt - 1) / (8 * nt);
            int rows = slices * 8 * nt;
            // parts per row: enough blocks for the SMs when there are few rows, ~1024+ elements each
            int parts = (int) Math.max(1, Math.min((Math.max(in, accumulate ? 0 : out) + 1023) / 1024,
                    (4L * dev.multiprocessors + rows - 1) / rows));
            if (!(preSplit && accumulate && norm == null && !gated && xIn == attn)) {
                dev.launch("split_bf16", rows, parts, 1, 256, xIn, norm, eps, gate, xHi, xLo, n, in, accumulate ? null : y, out);
            }
            String kernel = "stream_gemm" + nt + (gemmHint > 0 ? "_h" + gemmHint : "");
            int bo = streamGemmColumns(nt);
            int smem = streamGemmShared(nt);
            if (nt == 8 && !gemm64.equals("stream_gemm8")) {
                int[] p = GEMM64.get(gemm64);
                if (p == null) throw new IllegalArgumentException("unknown arbor.cuda.gemm64 kernel " + gemm64);
                kernel = gemm64;
                bo = 16 * p[0] * (8 / p[2]);
                smem = p[1] * (bo * 64 * 2 + (p[3] == 1 ? 2 : 1) * 64 * 64 * 2);
            }
            long units = (long) (out + bo - 1) / bo * slices * (in / STREAM_GEMM_K);
            int grid = (int) Math.min(units, (long) dev.blocksPerSm(kernel, 256, smem) * dev.multiprocessors);
            dev.launchShared(kernel, grid, 1, 1, 256, smem, xHi, xLo, w, bias, y, n, in, out, slices);
        } else if (n <= STREAM_ROWS && in % 16 == 0 && out % 16 == 0) {
            int mt = n <= 16 ? 1 : n <= 32 ? 2 : 4;
            dev.launch("split_bf16", 16 * mt, 1, 1, 256, xIn, norm, eps, gate, xHi, xLo, n, in, null, 0);
            int blocks = (out + 255) / 256;
            int ksteps = in / 16;
            int ksplit = Math.max(1, Math.min((2 * dev.multiprocessors + blocks - 1) / blocks, ksteps / 4));
            if (ksplit > 1 && !accumulate) {
                cuMemsetD32Async(y, 0, (long) n * out, dev.stream);
                acc = 1;
            }
            dev.launch("matmul_tile" + mt, blocks, ksplit, 1, 256, xHi, xLo, w, bias, y, n, in, out, acc);
        } else if (norm != null || gated) {
            throw new IllegalStateException("fused matmul inputs need the tensor-core paths");
        } else if (n <= 64) {
            dev.launch("matmul_mma32", (out + 31) / 32, (n + 31) / 32, 1, 128, xIn, w, bias, y, n, in, out, acc);
        } else {
            dev.launch("matmul_mma64", (out + 63) / 64, (n + 63) / 64, 1, 128, xIn, w, bias, y, n, in, out, acc);
        }
    }

    /** Output columns per unit of stream_gemm&lt;nt&gt; (stream_gemm.cu's table: 256 up to 24 rows, 128 beyond). */
    private static int streamGemmColumns(int nt) {
        return nt <= 3 ? 256 : 128;
    }

    /** stream_gemm&lt;nt&gt;'s shared memory: its stages of a columns x 64 weight tile and 8*nt x 64 hi and lo x tiles. */
    private static int streamGemmShared(int nt) {
        int stages = nt <= 3 ? 4 : 3;
        return stages * (streamGemmColumns(nt) * 64 * 2 + 2 * 8 * nt * 64 * 2);
    }

    /**
     * GPU microseconds of one {@code y = x . W^T} (with its split kernel where there is one) over layer 0's
     * projections and the lm_head at {@code n} rows, replayed from a CUDA graph (for the benchmark's per-kernel table);
     * the activations are whatever the last step left.
     */
    double[] timeMatmuls(int n, int reps) {
        dev.makeCurrent();
        if (ensureWorkspace(n, n, 16)) dropGraphs();
        CudaWeights.Layer w = weights.layers()[0];
        int hidden = config.hiddenSize();
        int inter = config.intermediateSize();
        Runnable[] shapes = {
                () -> matmul(h, null, false, w.qkvProj(), w.qkvBias(), qkv, n, hidden, qkvDim, false),
                () -> matmul(attn, null, false, w.oProj(), w.oBias(), x, n, config.qDim(), hidden, true),
                () -> matmul(h, null, false, w.gateUpProj(), w.gateUpBias(), gateUp, n, hidden, 2 * inter, false),
                () -> matmul(act, null, false, w.downProj(), w.downBias(), x, n, inter, hidden, true),
                () -> matmul(h, null, false, weights.lmHead(), null, gateUp, Math.min(n, capLogitRows), hidden,
                        config.vocabSize(), false)};
        double[] us = new double[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            if (i == 4 && (long) n * config.vocabSize() > (long) capTokens * 2 * inter) continue;
            us[i] = graphMicros(shapes[i], reps);
        }
        return us;
    }

    /**
     * Microseconds per call of stream_gemm's shape variants (weights streamed, x and y whatever the buffers hold) on
     * gate/up, down and the lm_head: "kernel shape: us, GB/s" lines, for choosing the variant.
     */
    String compareStreamVariants(int reps) {
        dev.makeCurrent();
        if (ensureWorkspace(64, 64, 16)) dropGraphs();
        String[] names = {"stream_gemm1", "stream_gemm1_m1_s4_w1_t", "stream_gemm8", "stream_gemm8_m2_s4_w1",
                "stream_gemm8_m4_s4_w2", "stream_gemm8_m4_s4_w2_t"};
        int[][] params = {{1, 2, 4, 0, 1}, {1, 1, 4, 1, 1}, {8, 2, 3, 0, 2}, {8, 2, 4, 0, 1}, {8, 4, 4, 0, 2},
                {8, 4, 4, 1, 2}}; // nt, mw, stages, tiled, wn
        int hidden = config.hiddenSize();
        int inter = config.intermediateSize();
        CudaWeights.Layer w = weights.layers()[0];
        CUdeviceptr[] mats = {w.qkvProj(), w.gateUpProj(), w.downProj(), weights.lmHead()};
        int[][] dims = {{hidden, qkvDim}, {hidden, 2 * inter}, {inter, hidden}, {hidden, config.vocabSize()}};
        String[] shapeNames = {"q/k/v", "gate/up", "down", "lm_head"};
        long tiledBytes = 2L * ((config.vocabSize() + 255) / 256 * 256) * hidden;
        CUdeviceptr tiled = dev.alloc(tiledBytes, "tiled weights (benchmark)");
        StringBuilder out = new StringBuilder();
        try {
            for (int v = 0; v < names.length; v++) {
                int nt = params[v][0], stages = params[v][2];
                int bo = 16 * params[v][1] * (8 / params[v][4]);
                boolean isTiled = params[v][3] == 1;
                int smem = stages * (bo * 64 * 2 + 2 * 8 * nt * 64 * 2);
                int occ = dev.blocksPerSm(names[v], 256, smem);
                out.append(String.format("%s (%d rows, %d blocks/SM, %d KiB shared):", names[v], 8 * nt, occ, smem / 1024));
                for (int i = 0; i < mats.length; i++) {
                    int in = dims[i][0], o = dims[i][1];
                    long units = (long) (o + bo - 1) / bo * (in / 64);
                    int grid = (int) Math.min(units, (long) occ * dev.multiprocessors);
                    CUdeviceptr m = isTiled ? tiled : mats[i];
                    String name = names[v];
                    double us = graphMicros(() -> dev.launchShared(name, grid, 1, 1, 256, smem, xHi, xLo, m, null, logits,
                            8 * nt, in, o, 1), reps);
                    out.append(String.format(" %s %.1f us %.0f GB/s;", shapeNames[i], us, 2.0 * in * o / us / 1e3));
                }
                out.append('\n');
            }
        } finally {
            dev.free(tiled);
        }
        return out.toString();
    }

    /**
     * How far the "gemm" kernels' outputs are from the "tile" kernels' on the same random inputs at {@code n} rows,
     * per shape of {@link #timeMatmuls}: max |gemm - tile| / max |tile| (a kernel check for the benchmark's shape).
     */
    double[] compareBatchKernels(int n, long seed) {
        dev.makeCurrent();
        if (ensureWorkspace(n, n, 16)) dropGraphs();
        int hidden = config.hiddenSize();
        int inter = config.intermediateSize();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        for (CUdeviceptr p : new CUdeviceptr[]{h, attn, act}) {
            float[] v = new float[n * Math.max(hidden, Math.max(config.qDim(), inter))];
            for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
            cuMemcpyHtoD(p, Pointer.to(v), 4L * (p == act ? n * inter : p == attn ? n * config.qDim() : n * hidden));
        }
        CudaWeights.Layer w = weights.layers()[0];
        CUdeviceptr[][] shapes = {{h, w.qkvProj(), w.qkvBias(), qkv}, {attn, w.oProj(), w.oBias(), gateUp},
                {h, w.gateUpProj(), w.gateUpBias(), gateUp}, {act, w.downProj(), w.downBias(), gateUp},
                {h, weights.lmHead(), null, logits}};
        int[][] dims = {{hidden, qkvDim}, {config.qDim(), hidden}, {hidden, 2 * inter}, {inter, hidden},
                {hidden, config.vocabSize()}};
        String saved = batchKernel;
        double[] rel = new double[shapes.length];
        try {
            for (int i = 0; i < shapes.length; i++) {
                if (i == 4 && n > capLogitRows) continue;
                float[][] out = new float[2][n * dims[i][1]];
                String[] kernels = {"tile", "gemm"};
                for (int k = 0; k < 2; k++) {
                    batchKernel = kernels[k];
                    matmul(shapes[i][0], null, false, shapes[i][1], shapes[i][2], shapes[i][3], n, dims[i][0], dims[i][1], false);
                    cuMemcpyDtoH(Pointer.to(out[k]), shapes[i][3], 4L * out[k].length);
                }
                double max = 0, diff = 0;
                for (int e = 0; e < out[0].length; e++) {
                    max = Math.max(max, Math.abs(out[0][e]));
                    diff = Math.max(diff, Math.abs(out[0][e] - out[1][e]));
                }
                rel[i] = Double.isFinite(diff) && max > 0 ? diff / max : Double.POSITIVE_INFINITY;
            }
        } finally {
            batchKernel = saved;
        }
        return rel;
    }

    private CUdeviceptr ints(int offset) { return meta.withByteOffset(offset * 4L); }

    private long workspaceBytes(int tokens, int logitRows) {
        long perToken = 2L * config.hiddenSize() + qkvDim + config.qDim() + 3L * config.intermediateSize()
                + Math.max(config.hiddenSize(), Math.max(config.qDim(), config.intermediateSize())); // + bf16 hi, lo
        long partials = (long) (2 * 132 + 128 * config.numHeads()) * (config.headDim() + 2);
        return 4 * (tokens * perToken + (long) logitRows * (config.hiddenSize() + config.vocabSize() + 1) + partials);
    }

    /** Grows the activation buffers to at least these sizes; true when they moved (captured graphs are then stale). */
    private boolean ensureWorkspace(int tokens, int logitRows, int metaInts) {
        boolean moved = false;
        if (tokens > capTokens) {
            int cap = Math.max(tokens, capTokens * 2);
            for (CUdeviceptr p : new CUdeviceptr[]{x, h, qkv, attn, gateUp, act}) dev.free(p);
            long f = 4;
            x = dev.alloc(f * cap * config.hiddenSize(), "activations");
            h = dev.alloc(f * cap * config.hiddenSize(), "activations");
            qkv = dev.alloc(f * cap * qkvDim, "activations");
            attn = dev.alloc(f * cap * config.qDim(), "activations");
            gateUp = dev.alloc(f * cap * 2L * config.intermediateSize(), "activations");
            act = dev.alloc(f * cap * config.intermediateSize(), "activations");
            capTokens = cap;
            moved = true;
        }
        if (logitRows > capLogitRows) {
            int cap = Math.max(logitRows, capLogitRows * 2);
            for (CUdeviceptr p : new CUdeviceptr[]{last, logits, argmax, argmaxPart}) dev.free(p);
            last = dev.alloc(4L * cap * config.hiddenSize(), "final norm rows");
            logits = dev.alloc(4L * cap * config.vocabSize(), "logits");
            argmax = dev.alloc(4L * cap, "sampled ids");
            argmaxPart = dev.alloc(8L * cap * ARGMAX_PARTS, "argmax partials");
            capLogitRows = cap;
            moved = true;
        }
        if (metaInts > capMetaInts) {
            int cap = Math.max(metaInts, capMetaInts * 2);
            dev.free(meta);
            meta = dev.alloc(4L * cap, "step inputs");
            capMetaInts = cap;
            moved = true;
        }
        int splitRows = (Math.max(tokens, Math.max(logitRows, STREAM_ROWS)) + STREAM_ROWS - 1) / STREAM_ROWS * STREAM_ROWS;
        if (splitRows > capSplitRows) {
            // the bf16 hi/lo operand of the tensor-core kernels, padded to whole 64-row slices
            dev.free(xHi);
            dev.free(xLo);
            long maxIn = Math.max(config.hiddenSize(), Math.max(config.qDim(), config.intermediateSize()));
            int cap = Math.max(splitRows, capSplitRows * 2);
            xHi = dev.alloc(2L * cap * maxIn, "bf16 activations");
            xLo = dev.alloc(2L * cap * maxIn, "bf16 activations");
            capSplitRows = cap;
            moved = true;
        }

        if (partAcc == null) {
            // splits are only used while tokens * heads < 2 * SMs, so the partials never exceed this
            long units = 2L * dev.multiprocessors + (long) MAX_SPLITS * config.numHeads();
            partAcc = dev.alloc(4L * units * MAX_SPLITS * config.headDim(), "attention partials");
            partMl = dev.alloc(8L * units * MAX_SPLITS, "attention partials");
        }
        return moved;
    }

    private void dropGraphs() {
        for (CUgraphExec e : graphs.values()) cuGraphExecDestroy(e);
        graphs.clear();
    }

    private static double gib(long bytes) { return bytes / (double) (1L << 30); }

    @Override
    public void close() {
        dev.makeCurrent();
        dropGraphs();
        dev.close();
    }
}

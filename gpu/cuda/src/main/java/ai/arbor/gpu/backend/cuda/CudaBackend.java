package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GreedyForward;
import ai.arbor.gpu.backend.KvBlockCopier;
import ai.arbor.gpu.model.CheckpointQuantization;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.quant.Quantization;
import ai.arbor.gpu.protocol.TokenLogprobs;
import ai.arbor.gpu.sample.SamplingRow;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import static jcuda.driver.JCudaDriver.*;

/**
 * Llama / Qwen2 / Qwen3 forward pass on one NVIDIA GPU through the CUDA driver API, with our own kernels
 * ({@code src/main/cuda}). Weights are bf16 on the device ({@link CudaWeights}), the residual stream fp32, the paged
 * KV cache bf16. The tokens of every chunk in a batch are concatenated into one activation matrix, so each weight
 * matrix is read once per step ({@link StepInputs} plans a step, {@link ForwardPass} launches its kernels,
 * {@link StepGraphs} replays decode steps from CUDA graphs, {@link DeviceSampler} picks the tokens). Memory is sized
 * from {@code gpu-memory-utilization} like vLLM's ({@link KvCacheBudget}): weights and the buffers of the largest step
 * the engine's {@link StepLimits} allow first, the rest is KV cache.
 */
public final class CudaBackend implements ComputeBackend, GreedyForward, DeviceSampling {
    public static final double DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
    /** Sequences with penalties sampled on the device at once (each keeps a vocabulary of token counts there). */
    private static final int PENALTY_SLOTS = 256;

    private final ModelConfig config;
    private final CudaDevice dev;
    private final CudaWeights weights;
    private final double gpuMemoryUtilization;
    private final int kvBytes;
    private final DeviceSampler sampler;
    private final ForwardPass pass;
    private final StepGraphs graphs;
    /** Activation rows allocated up front: the longest pass {@link #hiddenStates} may run. */
    private final int maxPassTokens;
    private boolean useGraphs;
    /** Set while a step's logits are sampled by {@link #sampler} rather than by the plain argmax. */
    private boolean sampleStep;
    private int numBlocks;
    private int blockSize;
    private StepInputs lastInputs;
    /** Block copies of the allocated cache (null before it): one per cache, as it owns the staging of its batches. */
    private CudaKvBlockCopier copier;

    /** The model on {@code cuda:deviceIndex}, with graphs for decode steps, for steps within {@link StepLimits#DEFAULT}. */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization) {
        this(config, weights, deviceIndex, gpuMemoryUtilization, StepLimits.DEFAULT);
    }

    /** The model on {@code cuda:deviceIndex}, with graphs for decode steps, for an engine with these step limits. */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization,
                       StepLimits limits) {
        this(config, weights, deviceIndex, gpuMemoryUtilization, true, false, limits);
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
        this(config, weights, deviceIndex, gpuMemoryUtilization, useGraphs, kvFloat32, StepLimits.DEFAULT);
    }

    /**
     * @param limits the largest step the engine will run ({@code max-num-batched-tokens}, {@code max-num-seqs}): its
     *               buffers are allocated here, before {@link #availableKvBlocks} gives the KV cache the rest
     */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization,
                       boolean useGraphs, boolean kvFloat32, StepLimits limits) {
        this(config, weights, deviceIndex, gpuMemoryUtilization, useGraphs, kvFloat32, limits, Quantization.NONE);
    }

    /**
     * @param quantization how the decoder layers' matrices are stored: {@link Quantization#FP8} quantizes them at load
     *                     to E4M3 with a scale per output channel (embeddings and LM head stay bf16); an FP8
     *                     checkpoint's stay FP8 whatever this says
     */
    public CudaBackend(ModelConfig config, Weights weights, int deviceIndex, double gpuMemoryUtilization,
                       boolean useGraphs, boolean kvFloat32, StepLimits limits, Quantization quantization) {
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
        this.maxPassTokens = limits.tokens();
        this.dev = CudaDevice.open(deviceIndex);
        this.graphs = new StepGraphs(dev);
        try {
            long[] mem = dev.memoryInfo();
            Quantization stored = CheckpointQuantization.fp8Weights(weights) ? Quantization.FP8 : quantization;
            long need = CudaWeights.matrixBytes(config, stored) + KvCacheBudget.stepBuffers(config, limits, PENALTY_SLOTS);
            long allowed = KvCacheBudget.allowed(mem[1], mem[0], gpuMemoryUtilization);
            if (need > allowed) {
                throw new IllegalStateException(String.format(
                        "the model does not fit on cuda:%d (%s): weights and the activations of a %d-token step need "
                                + "%.2f GiB, but gpu-memory-utilization %.2f of %.2f GiB with %.2f GiB already in use "
                                + "leaves %.2f GiB",
                        deviceIndex, dev.name, limits.maxTokens(), gib(need), gpuMemoryUtilization, gib(mem[1]),
                        gib(mem[1] - mem[0]), gib(Math.max(0, allowed))));
            }
            this.weights = CudaWeights.upload(dev, config, weights, quantization);
            float[] inv = RopeFrequencies.of(config.ropeTheta(), config.headDim(), config.ropeScaling());
            CUdeviceptr invFreq = dev.alloc(inv.length * 4L, "rope frequencies");
            cuMemcpyHtoD(invFreq, Pointer.to(inv), inv.length * 4L);
            this.sampler = new DeviceSampler(dev, config.vocabSize(), PENALTY_SLOTS, limits.logitRows());
            this.pass = new ForwardPass(config, dev, this.weights, invFreq, kvFloat32, sampler);
            pass.ensureWorkspace(limits.tokens(), limits.logitRows(), 4096);
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

    /** The CUDA devices this process sees: {@code --device} is checked against it before the weights load. */
    public static int deviceCount() { return CudaDevice.count(); }

    @Override
    public String name() { return "cuda:" + dev.index; }

    public String deviceName() { return dev.name; }

    /** Bytes of weight matrices one decode step streams (the roofline's denominator). */
    public long weightBytes() { return weights.bytes(); }

    /** Turns CUDA graphs for decode steps on or off (for measuring what they save). */
    public void setUseGraphs(boolean on) { this.useGraphs = on; }

    CudaDevice device() { return dev; }

    /** The kernel choices in use. */
    public CudaTuning tuning() { return pass.t; }

    /** Switches kernel choices (the benchmark tools compare them); captured graphs are dropped. */
    public void setTuning(CudaTuning tuning) {
        pass.t = tuning;
        graphs.drop();
    }

    /** The forward pass's launches and buffers, for the kernel timings and checks in gpu/tools. */
    ForwardPass pass() { return pass; }

    /** The inputs of the last step, for the tools' kernel checks (null before the first). */
    StepInputs lastInputs() { return lastInputs; }

    /** Forgets the captured graphs (the tools change buffers and kernels under them). */
    void dropGraphs() { graphs.drop(); }

    @Override
    public long kvBlockBytes(int blockSize) {
        return (long) blockSize * config.numLayers() * 2L * config.kvDim() * kvBytes; // K and V
    }

    @Override
    public int availableKvBlocks(int blockSize) {
        long[] mem = dev.memoryInfo();
        long current = pass.kCache == null ? 0 : 2 * config.numLayers() * pass.layerStride * kvBytes;
        if (copier != null) current += copier.stagingDeviceBytes();
        long blockBytes = kvBlockBytes(blockSize);
        long staging = PinnedKvStaging.deviceBytes(KvPackLayout.roundBlocks(kvCopyStagingBytes(), blockBytes), blockBytes);
        return KvCacheBudget.kvBlocks(mem[1], mem[0], gpuMemoryUtilization, current, staging, blockBytes);
    }

    @Override
    public java.util.Optional<KvBlockCopier> kvBlockCopier() { return java.util.Optional.ofNullable(copier); }

    /** The cache's block copier (null before allocateKvCache), for the tools. */
    CudaKvBlockCopier blockCopier() { return copier; }

    private long kvCopyStagingBytes() { return (long) pass.t.kvCopyRoundMib() << 20; }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        if (numBlocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("KV cache needs numBlocks >= 1 and blockSize >= 1, got "
                    + numBlocks + " x " + blockSize);
        }
        dev.makeCurrent();
        if (copier != null) copier.close();
        copier = null;
        dev.synchronize();
        dropGraphs();
        dev.free(pass.kCache);
        dev.free(pass.vCache);
        pass.kCache = null;
        pass.vCache = null;
        pass.layerStride = (long) (numBlocks + 1) * blockSize * config.kvDim();
        long bytes = config.numLayers() * pass.layerStride * kvBytes;
        pass.kCache = dev.alloc(bytes, "the K cache (" + numBlocks + " blocks of " + blockSize + ")");
        pass.vCache = dev.alloc(bytes, "the V cache (" + numBlocks + " blocks of " + blockSize + ")");
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        pass.blockSize = blockSize;
        copier = new CudaKvBlockCopier(dev, pass.kCache, pass.vCache, KvPackLayout.of(config.numLayers(),
                pass.layerStride, blockSize, config.kvDim(), kvBytes), numBlocks, kvCopyStagingBytes());
    }

    @Override
    public float[][] forward(ForwardBatch batch) {
        StepInputs s = run(batch);
        int vocab = config.vocabSize();
        float[] flat = new float[s.realM() * vocab];
        if (flat.length > 0) cuMemcpyDtoH(Pointer.to(flat), pass.logits, (long) flat.length * 4);
        float[][] out = new float[s.realM()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new float[vocab];
            System.arraycopy(flat, i * vocab, out[i], 0, vocab);
        }
        return out;
    }

    /**
     * Every token's final hidden state, as the CPU backend returns them: per chunk its tokens x hidden (wantLogits is
     * ignored), K/V written into the cache as {@link #forward} writes them. Never from a graph; a batch longer than the
     * engine's largest step runs in several passes ({@link HiddenStatePasses}).
     */
    @Override
    public float[][] hiddenStates(ForwardBatch batch) {
        return hiddenStates(batch, maxPassTokens);
    }

    /** {@link #hiddenStates(ForwardBatch)} in passes of at most {@code maxTokens} tokens (the self-check cuts small ones). */
    float[][] hiddenStates(ForwardBatch batch, int maxTokens) {
        if (pass.kCache == null) throw new IllegalStateException("allocateKvCache must be called before forward");
        // the whole batch is checked before a pass writes into the cache, as a single pass would be
        StepInputs.of(batch, config.vocabSize(), numBlocks, blockSize, 0, 1, numBlocks);
        dev.makeCurrent();
        int hidden = config.hiddenSize();
        float[] rows = new float[Math.multiplyExact(batch.numTokens(), hidden)];
        int done = 0;
        for (ForwardBatch p : HiddenStatePasses.of(batch, maxTokens)) {
            pass.encodeHidden(upload(p, false));
            float[] part = new float[p.numTokens() * hidden];
            cuMemcpyDtoH(Pointer.to(part), pass.h, 4L * part.length);
            System.arraycopy(part, 0, rows, done, part.length);
            done += part.length;
        }
        return batch.perChunk(rows, hidden);
    }

    @Override
    public int[] forwardGreedy(ForwardBatch batch) {
        StepInputs s = run(batch);
        int[] ids = new int[s.realM()];
        if (ids.length > 0) cuMemcpyDtoH(Pointer.to(ids), pass.argmax, ids.length * 4L);
        return ids;
    }

    @Override
    public StepTokens forwardSampled(ForwardBatch batch, List<SamplingRow> rows) {
        boolean plain = true;
        for (SamplingRow r : rows) plain &= r.isPlainArgmax();
        if (plain) return new StepTokens(forwardGreedy(batch), new TokenLogprobs[rows.size()]);
        sampleStep = true;
        try {
            SamplingInputs[] in = new SamplingInputs[1];
            StepInputs s = run(batch, rows, in);
            if (s.realM() != rows.size()) {
                throw new IllegalArgumentException(rows.size() + " sampling rows for " + s.realM() + " logits rows");
            }
            return sampler.read(in[0], rows, pass.argmax);
        } finally {
            sampleStep = false;
        }
    }

    @Override
    public boolean canSample(List<SamplingRow> rows) { return sampler.canSample(rows); }

    @Override
    public void release(String sequenceId) { sampler.release(sequenceId); }

    /**
     * Samples {@code rows} on the device from the given raw logits (row-major, one vocabulary per row) instead of a
     * forward pass's: the self-check compares these draws with the host's for the same logits and rows.
     */
    StepTokens sampleLogits(float[] raw, List<SamplingRow> rows) {
        dev.makeCurrent();
        if (pass.ensureWorkspace(1, rows.size(), 16)) dropGraphs();
        cuMemcpyHtoD(pass.logits, Pointer.to(raw), 4L * raw.length);
        boolean[] moved = {false};
        SamplingInputs in = sampler.upload(rows, 0, moved);
        if (moved[0]) dropGraphs();
        sampler.enqueue(pass.logits, rows.size(), pass.argmax);
        return sampler.read(in, rows, pass.argmax);
    }

    /** Copies the first {@code rows} logits rows of the last forward pass to the host (for checks). */
    float[] lastLogits(int rows) {
        float[] flat = new float[rows * config.vocabSize()];
        cuMemcpyDtoH(Pointer.to(flat), pass.logits, 4L * flat.length);
        return flat;
    }

    /** Uploads the step's inputs and runs the forward pass (a graph replay for decode steps), leaving logits on the GPU. */
    private StepInputs run(ForwardBatch batch) {
        return run(batch, null, null);
    }

    /**
     * The forward pass of a step; with {@code rows} (while {@link #sampleStep} is set) its logits are sampled on the
     * device too, inside the same graph, and {@code in[0]} gets the uploaded sampling inputs.
     */
    private StepInputs run(ForwardBatch batch, List<SamplingRow> rows, SamplingInputs[] in) {
        if (pass.kCache == null) throw new IllegalStateException("allocateKvCache must be called before forward");
        dev.makeCurrent();
        boolean graph = useGraphs && StepInputs.isDecode(batch) && StepGraphs.padTo(batch.chunks().size()) > 0;
        StepInputs s = upload(batch, graph);
        if (rows != null) {
            boolean[] moved = {false};
            in[0] = sampler.upload(rows, s.m(), moved);
            if (moved[0]) dropGraphs();
        }
        if (graph) {
            boolean sample = sampleStep;
            graphs.run(StepGraphs.key(s.n(), s.width(), sample), () -> pass.encode(s, sample),
                    pass.t.programmaticLaunch() && dev.hopper);
        } else {
            pass.encode(s, sampleStep);
        }
        return s;
    }

    /** The step's inputs on the device (padded to a graph's batch size when graph is set). */
    StepInputs upload(ForwardBatch batch, boolean graph) {
        int padTo = 0;
        int minWidth = 1;
        if (graph) {
            padTo = StepGraphs.padTo(batch.chunks().size());
            int longest = 0;
            for (var c : batch.chunks()) longest = Math.max(longest, (c.endPosition() + blockSize - 1) / blockSize);
            minWidth = Integer.highestOneBit(Math.max(1, longest - 1)) * 2; // next power of two: few graphs
            if (minWidth < longest) minWidth = longest;
        }
        StepInputs s = StepInputs.of(batch, config.vocabSize(), numBlocks, blockSize, padTo, minWidth, numBlocks);
        if (pass.ensureWorkspace(s.n(), s.m(), s.packed().length)) graphs.drop();
        cuMemcpyHtoD(pass.meta, Pointer.to(s.packed()), s.packed().length * 4L);
        lastInputs = s;
        return s;
    }

    @Override
    public void close() {
        dev.makeCurrent();
        if (copier != null) copier.close();
        graphs.drop();
        sampler.close();
        pass.free();
        dev.close();
    }

    private static double gib(long bytes) { return bytes / (double) (1L << 30); }
}

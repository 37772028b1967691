package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;

import java.util.Map;

import static jcuda.driver.JCudaDriver.*;

/**
 * Kernel timings and cross-checks of the CUDA backend for the benchmark and sweep tools: per-kernel GPU time of a
 * decode step, matmul and attention kernels replayed from CUDA graphs, and one kernel's output against another's.
 * Their findings are in {@code gpu/cuda/src/main/cuda/NOTES.md}.
 */
final class KernelLab {
    private KernelLab() {}

    /**
     * GPU time per kernel of one decode step (eager launches queued behind a spin kernel, an event after each):
     * one line per kernel and shape (launches, total microseconds), largest first, and the step's total.
     */
    static String profileDecode(CudaBackend gpu, ForwardBatch batch) {
        ForwardPass p = gpu.pass();
        if (p.kCache == null) throw new IllegalStateException("allocateKvCache must be called before forward");
        p.dev.makeCurrent();
        StepInputs s = gpu.upload(batch, true);
        p.encode(s, false); // kernels loaded and opted in
        p.dev.synchronize();
        // the GPU waits ~50 ms while the host enqueues the step with an event after every kernel, then runs it back
        // to back: per-kernel times without the host's launch gaps
        p.dev.launch("spin", 1, 1, 1, 32, 100_000_000L);
        p.dev.startProfile();
        p.encode(s, false);
        CudaDevice.Profile prof = p.dev.stopProfile();
        p.dev.synchronize();
        Map<String, double[]> by = new java.util.LinkedHashMap<>();
        float[] ms = {0};
        for (int i = 1; i < prof.events().size(); i++) {
            cuEventElapsedTime(ms, prof.events().get(i - 1), prof.events().get(i));
            double[] a = by.computeIfAbsent(prof.labels().get(i), k -> new double[2]);
            a[0]++;
            a[1] += 1000.0 * ms[0];
        }
        cuEventElapsedTime(ms, prof.events().get(0), prof.events().get(prof.events().size() - 1));
        double total = 1000.0 * ms[0];
        for (jcuda.driver.CUevent e : prof.events()) cuEventDestroy(e);
        StringBuilder out = new StringBuilder(String.format("step of %d rows: %.0f us on the GPU%n", s.n(), total));
        by.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1])).limit(16)
                .forEach(e -> out.append(String.format("  %-44s %4.0f p.x %7.1f us = %6.0f us (%4.1f%%)%n", e.getKey(),
                        e.getValue()[0], e.getValue()[1] / e.getValue()[0], e.getValue()[1], 100 * e.getValue()[1] / total)));
        return out.toString();
    }

    /** Mean GPU microseconds of what enqueue launches, replayed reps times from one CUDA graph. */
    static double graphMicros(CudaDevice dev, Runnable enqueue, int reps) {
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

    /** GPU microseconds of one layer's attention for the last step's inputs: per-head, then grouped at 1..16 splits. */
    static String timeAttention(CudaBackend gpu) {
        ForwardPass p = gpu.pass();
        StepInputs lastInputs = gpu.lastInputs();
        p.dev.makeCurrent();
        if (lastInputs == null) return "";
        StringBuilder out = new StringBuilder(String.format("attention, %d rows (graph-timed): per-head %.1f us; grouped:",
                lastInputs.n(), graphMicros(p.dev, () -> p.attention(lastInputs, p.kCache, p.vCache, false, 0), 20)));
        for (int sp : new int[]{0, 1, 2, 3, 4, 6, 8}) {
            out.append(String.format(" %s %.1f us;", sp == 0 ? "default" : sp + " splits",
                    graphMicros(p.dev, () -> p.attention(lastInputs, p.kCache, p.vCache, true, sp), 20)));
        }
        return out.append('\n').toString();
    }

    /**
     * Max |grouped - per-head| / max |per-head| of the attention output for the last step's inputs as the last
     * forward pass left them (the last layer's q, layer 0's cache: any consistent inputs do): a kernel check.
     */
    static double compareAttention(CudaBackend gpu) {
        ForwardPass p = gpu.pass();
        StepInputs lastInputs = gpu.lastInputs();
        p.dev.makeCurrent();
        if (lastInputs == null) return Double.NaN;
        int len = lastInputs.n() * p.config.qDim();
        float[][] out = new float[2][len];
        for (int k = 0; k < 2; k++) {
            p.attention(lastInputs, p.kCache, p.vCache, k == 1, 0);
            cuMemcpyDtoH(Pointer.to(out[k]), p.attn, 4L * len);
        }
        double max = 0, diff = 0;
        for (int e = 0; e < len; e++) {
            max = Math.max(max, Math.abs(out[0][e]));
            diff = Math.max(diff, Math.abs(out[0][e] - out[1][e]));
        }
        return Double.isFinite(diff) && max > 0 ? diff / max : Double.POSITIVE_INFINITY;
    }

    /**
     * GPU microseconds of one {@code y = p.x . W^T} (with its split kernel where there is one) over layer 0's
     * projections and the lm_head at {@code n} rows, replayed from a CUDA graph (for the benchmark's per-kernel table);
     * the activations are whatever the last step left.
     */
    static double[] timeMatmuls(CudaBackend gpu, int n, int reps) {
        ForwardPass p = gpu.pass();
        p.dev.makeCurrent();
        if (p.ensureWorkspace(n, n, 16)) gpu.dropGraphs();
        CudaWeights.Layer w = p.weights.layers()[0];
        int hidden = p.config.hiddenSize();
        int inter = p.config.intermediateSize();
        Runnable[] shapes = {
                () -> p.matmul(p.h, null, false, w.qkvProj(), w.qkvScales(), w.qkvBias(), p.qkv, n, hidden, p.qkvDim, false),
                () -> p.matmul(p.attn, null, false, w.oProj(), w.oScales(), w.oBias(), p.x, n, p.config.qDim(), hidden, true),
                () -> p.matmul(p.h, null, false, w.gateUpProj(), w.gateUpScales(), w.gateUpBias(), p.gateUp, n, hidden,
                        2 * inter, false),
                () -> p.matmul(p.act, null, false, w.downProj(), w.downScales(), w.downBias(), p.x, n, inter, hidden, true),
                () -> p.matmul(p.h, null, false, p.weights.lmHead(), null, p.gateUp, Math.min(n, p.capLogitRows), hidden,
                        p.config.vocabSize(), false)};
        double[] us = new double[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            if (i == 4 && (long) n * p.config.vocabSize() > (long) p.capTokens * 2 * inter) continue;
            us[i] = graphMicros(p.dev, shapes[i], reps);
        }
        return us;
    }

    /**
     * Microseconds per call of stream_gemm's shape variants (p.weights streamed, p.x and y whatever the buffers hold) on
     * gate/up, down and the lm_head: "kernel shape: us, GB/s" lines, for choosing the variant.
     */
    static String compareStreamVariants(CudaBackend gpu, int reps) {
        ForwardPass p = gpu.pass();
        p.dev.makeCurrent();
        if (p.ensureWorkspace(64, 64, 16)) gpu.dropGraphs();
        String[] names = {"stream_gemm1", "stream_gemm1_m1_s4_w1_t", "stream_gemm8", "stream_gemm8_m2_s4_w1",
                "stream_gemm8_m4_s4_w2", "stream_gemm8_m4_s4_w2_t"};
        int[][] params = {{1, 2, 4, 0, 1}, {1, 1, 4, 1, 1}, {8, 2, 3, 0, 2}, {8, 2, 4, 0, 1}, {8, 4, 4, 0, 2},
                {8, 4, 4, 1, 2}}; // nt, mw, stages, tiled, wn
        int hidden = p.config.hiddenSize();
        int inter = p.config.intermediateSize();
        CudaWeights.Layer w = p.weights.layers()[0];
        CUdeviceptr[] mats = {w.qkvProj(), w.gateUpProj(), w.downProj(), p.weights.lmHead()};
        int[][] dims = {{hidden, p.qkvDim}, {hidden, 2 * inter}, {inter, hidden}, {hidden, p.config.vocabSize()}};
        String[] shapeNames = {"q/k/v", "gate/up", "down", "lm_head"};
        long tiledBytes = 2L * ((p.config.vocabSize() + 255) / 256 * 256) * hidden;
        CUdeviceptr tiled = p.dev.alloc(tiledBytes, "tiled p.weights (benchmark)");
        StringBuilder out = new StringBuilder();
        try {
            for (int v = 0; v < names.length; v++) {
                int nt = params[v][0], stages = params[v][2];
                int bo = 16 * params[v][1] * (8 / params[v][4]);
                boolean isTiled = params[v][3] == 1;
                int smem = stages * (bo * 64 * 2 + 2 * 8 * nt * 64 * 2);
                int occ = p.dev.blocksPerSm(names[v], 256, smem);
                out.append(String.format("%s (%d rows, %d blocks/SM, %d KiB shared):", names[v], 8 * nt, occ, smem / 1024));
                for (int i = 0; i < mats.length; i++) {
                    int in = dims[i][0], o = dims[i][1];
                    long units = (long) (o + bo - 1) / bo * (in / 64);
                    int grid = (int) Math.min(units, (long) occ * p.dev.multiprocessors);
                    CUdeviceptr m = isTiled ? tiled : mats[i];
                    String name = names[v];
                    double us = graphMicros(p.dev, () -> p.dev.launchShared(name, grid, 1, 1, 256, smem, p.xHi, p.xLo, m, null, p.logits,
                            8 * nt, in, o, 1), reps);
                    out.append(String.format(" %s %.1f us %.0f GB/s;", shapeNames[i], us, 2.0 * in * o / us / 1e3));
                }
                out.append('\n');
            }
        } finally {
            p.dev.free(tiled);
        }
        return out.toString();
    }

    /**
     * How far the "gemm" kernels' outputs are from the "tile" kernels' on the same random inputs at {@code n} rows,
     * per shape of {@link #timeMatmuls}: max |gemm - tile| / max |tile| (a kernel check for the benchmark's shape).
     */
    static double[] compareBatchKernels(CudaBackend gpu, int n, long seed) {
        ForwardPass p = gpu.pass();
        p.dev.makeCurrent();
        if (p.ensureWorkspace(n, n, 16)) gpu.dropGraphs();
        int hidden = p.config.hiddenSize();
        int inter = p.config.intermediateSize();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        for (CUdeviceptr buf : new CUdeviceptr[]{p.h, p.attn, p.act}) {
            float[] v = new float[n * Math.max(hidden, Math.max(p.config.qDim(), inter))];
            for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
            cuMemcpyHtoD(buf, Pointer.to(v), 4L * (buf == p.act ? n * inter : buf == p.attn ? n * p.config.qDim() : n * hidden));
        }
        CudaWeights.Layer w = p.weights.layers()[0];
        CUdeviceptr[][] shapes = {{p.h, w.qkvProj(), w.qkvBias(), p.qkv}, {p.attn, w.oProj(), w.oBias(), p.gateUp},
                {p.h, w.gateUpProj(), w.gateUpBias(), p.gateUp}, {p.act, w.downProj(), w.downBias(), p.gateUp},
                {p.h, p.weights.lmHead(), null, p.logits}};
        int[][] dims = {{hidden, p.qkvDim}, {p.config.qDim(), hidden}, {hidden, 2 * inter}, {inter, hidden},
                {hidden, p.config.vocabSize()}};
        CudaTuning saved = gpu.tuning();
        double[] rel = new double[shapes.length];
        try {
            for (int i = 0; i < shapes.length; i++) {
                if (i == 4 && n > p.capLogitRows) continue;
                float[][] out = new float[2][n * dims[i][1]];
                String[] kernels = {"tile", "gemm"};
                for (int k = 0; k < 2; k++) {
                    gpu.setTuning(saved.withBatchKernel(kernels[k]));
                    p.matmul(shapes[i][0], null, false, shapes[i][1], shapes[i][2], shapes[i][3], n, dims[i][0], dims[i][1], false);
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
            gpu.setTuning(saved);
        }
        return rel;
    }
}

package ai.arbor.gpu.backend.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;

import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.*;

/**
 * Decode steps captured into CUDA graphs and replayed: launching ~300 kernels one by one through JCuda costs
 * milliseconds of host time a step, a replay about a microsecond each. One graph per padded batch size, block-table
 * width and tail (argmax or sampler); a step is padded up to the next size in {@link #BATCHES}.
 */
final class StepGraphs {
    /** Decode batch sizes that get a graph. */
    static final int[] BATCHES = {1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256};

    private final CudaDevice dev;
    private final Map<Long, CUgraphExec> graphs = new HashMap<>();

    StepGraphs(CudaDevice dev) { this.dev = dev; }

    /** The graph size a decode batch of {@code rows} pads to, or 0 when it has none. */
    static int padTo(int rows) {
        for (int b : BATCHES) if (b >= rows) return b;
        return 0;
    }

    static long key(int rows, int width, boolean sample) {
        return ((long) rows << 32) | width | (sample ? 1L << 62 : 0);
    }

    /**
     * Replays the graph for {@code key}; the first time, runs {@code step} eagerly (loading its kernels; its results
     * stand, so a sampling step is not sampled twice) and captures it for the next, its kernels launched with
     * programmatic stream serialization when {@code programmatic} is set (pdl.cuh).
     */
    void run(long key, Runnable step, boolean programmatic) {
        CUgraphExec exec = graphs.get(key);
        if (exec != null) {
            cuGraphLaunch(exec, dev.stream);
            return;
        }
        step.run();
        dev.synchronize();
        CUgraph g = new CUgraph();
        cuStreamBeginCapture(dev.stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        dev.setProgrammaticLaunch(programmatic);
        try {
            step.run();
        } finally {
            dev.setProgrammaticLaunch(false);
            cuStreamEndCapture(dev.stream, g);
        }
        exec = new CUgraphExec();
        cuGraphInstantiate(exec, g, 0);
        cuGraphDestroy(g);
        graphs.put(key, exec);
    }

    /** Forgets every graph (buffers moved or the tuning changed). */
    void drop() {
        for (CUgraphExec e : graphs.values()) cuGraphExecDestroy(e);
        graphs.clear();
    }
}

package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.sample.SamplingRow;
import ai.arbor.gpu.protocol.TokenLogprobs;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

/**
 * The sampling stage of a step on the device ({@code sampling.cu}): the step's rows packed into one buffer at a fixed
 * address (so a CUDA graph replays any mix of parameters), the per-sequence penalty token counts, and the launches
 * that turn the logits into token ids and logprobs. Buffers only grow; when one moves, the caller drops its graphs.
 */
final class DeviceSampler implements AutoCloseable {
    /** Blocks per row of sample_prepare. */
    static final int PARTS = 32;

    private final CudaDevice dev;
    private final int vocab;
    private final int slots;
    private final CUdeviceptr counts;
    private final Map<String, Integer> slotOf = new HashMap<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private CUdeviceptr params, part, logprobs, scratchTokens;
    private int capParamInts, capRows, capScratch;

    /** @param slots sequences with penalties that can be sampled at once (each holds a vocabulary of counts) */
    DeviceSampler(CudaDevice dev, int vocab, int slots, int rows) {
        this.dev = dev;
        this.vocab = vocab;
        this.slots = slots;
        this.counts = dev.alloc(4L * slots * vocab, "penalty token counts");
        for (int i = 0; i < slots; i++) freeSlots.add(i);
        ensure(rows, rows * (SamplingInputs.FIELDS + 64));
    }

    static long bytes(int vocab, int slots, int rows) {
        return 4L * slots * vocab + 4L * rows * (SamplingInputs.FIELDS + 64 + PARTS * 4 + SamplingInputs.LP_STRIDE);
    }

    boolean canSample(List<SamplingRow> rows) {
        int need = 0;
        for (SamplingRow r : rows) if (r.hasPenalties() && !slotOf.containsKey(r.sequenceId())) need++;
        return need <= freeSlots.size();
    }

    void release(String sequenceId) {
        Integer s = slotOf.remove(sequenceId);
        if (s != null) freeSlots.add(s);
    }

    /**
     * Gives new penalized sequences a slot filled from their tokens (eagerly, before the step), packs the rows and
     * uploads them. Returns the inputs, or null when a buffer had to move (then the caller drops its graphs and calls
     * again).
     */
    SamplingInputs upload(List<SamplingRow> rows, int padTo, boolean[] moved) {
        for (SamplingRow r : rows) if (r.hasPenalties() && !slotOf.containsKey(r.sequenceId())) fillSlot(r);
        SamplingInputs in = SamplingInputs.of(rows, padTo, vocab, r -> slotOf.get(r.sequenceId()));
        moved[0] |= ensure(in.rows(), in.packed().length);
        cuMemcpyHtoD(params, Pointer.to(in.packed()), 4L * in.packed().length);
        return in;
    }

    private void fillSlot(SamplingRow r) {
        Integer s = freeSlots.poll();
        if (s == null) throw new IllegalStateException("no free penalty slot (" + slots + " in use)");
        slotOf.put(r.sequenceId(), s);
        CUdeviceptr row = counts.withByteOffset(4L * s * vocab);
        cuMemsetD32Async(row, 0, vocab, dev.stream);
        if (r.numTokens() == 0) return;
        if (r.numTokens() > capScratch) {
            dev.free(scratchTokens);
            capScratch = Math.max(r.numTokens(), 2 * capScratch);
            scratchTokens = dev.alloc(4L * capScratch, "penalty init tokens");
        }
        cuMemcpyHtoD(scratchTokens, Pointer.to(r.tokens()), 4L * r.numTokens());
        dev.launch("penalty_init", Math.min(64, (r.numTokens() + 255) / 256), 1, 1, 256, counts, vocab, s,
                scratchTokens, r.promptLength(), r.numTokens());
    }

    /** The sampling kernels for {@code rows} logits rows: a step's tail, captured with it. */
    void enqueue(CUdeviceptr logits, int rows, CUdeviceptr out) {
        dev.launch("sample_prepare", rows, PARTS, 1, 256, logits, vocab, params, counts, part);
        dev.launch("sample_draw", rows, 1, 1, 1024, logits, vocab, params, counts, part, PARTS, out, logprobs);
    }

    /** The first {@code real} rows' tokens and logprobs, after {@link #enqueue} ran. */
    DeviceSampling.StepTokens read(SamplingInputs in, List<SamplingRow> rows, CUdeviceptr out) {
        int real = rows.size();
        int[] ids = new int[real];
        if (real > 0) cuMemcpyDtoH(Pointer.to(ids), out, 4L * real);
        TokenLogprobs[] lps = new TokenLogprobs[real];
        if (in.anyLogprobs() && real > 0) {
            float[] flat = new float[real * SamplingInputs.LP_STRIDE];
            cuMemcpyDtoH(Pointer.to(flat), logprobs, 4L * flat.length);
            for (int i = 0; i < real; i++) {
                Integer k = rows.get(i).params().logprobs();
                if (k == null) continue;
                int base = i * SamplingInputs.LP_STRIDE;
                int n = Math.min(k, vocab);
                int[] top = new int[n];
                float[] topLp = new float[n];
                for (int j = 0; j < n; j++) {
                    top[j] = Float.floatToRawIntBits(flat[base + 1 + j]);
                    topLp[j] = flat[base + 21 + j];
                }
                int have = 0;
                while (have < n && top[have] >= 0) have++;
                lps[i] = new TokenLogprobs(ids[i], flat[base], Arrays.copyOf(top, have), Arrays.copyOf(topLp, have));
            }
        }
        return new DeviceSampling.StepTokens(ids, lps);
    }

    /** Grows the buffers to hold this many rows and packed ints; true when one moved. */
    private boolean ensure(int rows, int paramInts) {
        boolean moved = false;
        if (paramInts > capParamInts) {
            dev.free(params);
            capParamInts = Math.max(paramInts, 2 * capParamInts);
            params = dev.alloc(4L * capParamInts, "sampling parameters");
            moved = true;
        }
        if (rows > capRows) {
            dev.free(part);
            dev.free(logprobs);
            capRows = Math.max(rows, 2 * capRows);
            part = dev.alloc(16L * capRows * PARTS, "sampling partials");
            logprobs = dev.alloc(4L * capRows * SamplingInputs.LP_STRIDE, "logprobs");
            moved = true;
        }
        return moved;
    }

    @Override
    public void close() {
        for (CUdeviceptr p : new CUdeviceptr[]{counts, params, part, logprobs, scratchTokens}) dev.free(p);
    }
}

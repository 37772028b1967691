package ai.arbor.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * The batched path of {@link CudaKvBlockCopier}: device → pinned host and back on a copy stream of its own, in rounds
 * of at most {@code roundBlocks} blocks through two staging slots, each a device buffer (kv_copy.cu packs the listed
 * blocks' K and V runs into it, or unpacks them) and a page-locked host buffer of the same size.
 *
 * <p>Ordering is by events, never a device synchronize: a copy first makes the copy stream wait for what the compute
 * stream has queued (the step that wrote the blocks, or that still reads the blocks a write replaces); a write then
 * makes the compute stream wait for its last scatter, so the next step reads the new blocks. A read returns when its
 * bytes are on the host, the host copies of one slot overlapping the device's work on the other; a write returns once
 * its bytes are in pinned memory and queued, so the engine thread goes on (planning and launching the next step) while
 * they cross. The copy stream is non-blocking: the compute stream's own synchronous copies do not wait for it.
 *
 * <p>Buffers are allocated on the first batched copy (a worker that never shares KV spends nothing; the KV budget
 * still sets their device bytes aside, {@link #deviceBytes(int, long)}) and freed by {@link #close}.
 */
final class PinnedKvStaging implements AutoCloseable {
    private static final int SLOTS = 2;
    private static final int THREADS = 256;

    private final CudaDevice dev;
    private final CUdeviceptr keys;
    private final CUdeviceptr values;
    private final KvPackLayout layout;
    private final int roundBlocks;
    private final long slotBytes;
    private CUstream copy;
    private CUevent computeMark;
    private CUevent copied;
    private final CUevent[] done = new CUevent[SLOTS];
    private final CUdeviceptr[] deviceStage = new CUdeviceptr[SLOTS];
    private final CUdeviceptr[] deviceIds = new CUdeviceptr[SLOTS];
    private final Pointer[] hostStage = new Pointer[SLOTS];
    private final Pointer[] hostIds = new Pointer[SLOTS];
    private final ByteBuffer[] hostStageView = new ByteBuffer[SLOTS];
    private final IntBuffer[] hostIdsView = new IntBuffer[SLOTS];
    private boolean open;

    PinnedKvStaging(CudaDevice dev, CUdeviceptr keys, CUdeviceptr values, KvPackLayout layout, int roundBlocks) {
        this.dev = dev;
        this.keys = keys;
        this.values = values;
        this.layout = layout;
        this.roundBlocks = roundBlocks;
        this.slotBytes = roundBlocks * layout.blockBytes();
    }

    /** Device bytes the staging of rounds of {@code roundBlocks} blocks of {@code blockBytes} takes once allocated. */
    static long deviceBytes(int roundBlocks, long blockBytes) {
        return SLOTS * (roundBlocks * blockBytes + 4L * roundBlocks);
    }

    /** Device bytes held now (0 before the first batched copy). */
    long deviceBytesHeld() { return open ? deviceBytes(roundBlocks, layout.blockBytes()) : 0; }

    int roundBlocks() { return roundBlocks; }

    /** Copies block {@code ids[i]} into {@code dsts[i]} (advancing it); returns when every byte is there. */
    void read(int[] ids, ByteBuffer[] dsts) {
        List<int[]> rounds = KvCopyRounds.forRead(ids, roundBlocks);
        if (rounds.isEmpty()) return;
        begin();
        for (int r = 0; r < rounds.size(); r++) {
            int s = r % SLOTS;
            cuEventSynchronize(done[s]); // the slot's last use (a write of an earlier call) is over
            int[] round = rounds.get(r);
            uploadIds(round, ids, s);
            dev.launchOn(copy, "kv_gather", round.length * layout.runsPerBlock(), 1, 1, THREADS, 0, keys, values,
                    deviceIds[s], deviceStage[s], layout.layers(), layout.layerStrideBytes() / 16,
                    (int) (layout.runBytes() / 16));
            cuMemcpyDtoHAsync(hostStage[s], deviceStage[s], round.length * layout.blockBytes(), copy);
            cuEventRecord(done[s], copy);
            if (r > 0) drain(rounds.get(r - 1), dsts, (r - 1) % SLOTS);
        }
        drain(rounds.get(rounds.size() - 1), dsts, (rounds.size() - 1) % SLOTS);
    }

    /** Overwrites block {@code ids[i]} from {@code srcs[i]} (advancing it); returns once the bytes are queued. */
    void write(int[] ids, ByteBuffer[] srcs) {
        List<int[]> rounds = KvCopyRounds.forWrite(ids, roundBlocks);
        if (rounds.isEmpty()) return;
        begin();
        long bytes = layout.blockBytes();
        for (int r = 0; r < rounds.size(); r++) {
            int s = r % SLOTS;
            cuEventSynchronize(done[s]); // the slot's last round has left pinned memory and been scattered
            int[] round = rounds.get(r);
            ByteBuffer stage = hostStageView[s];
            for (int k = 0; k < round.length; k++) {
                ByteBuffer src = srcs[round[k]];
                stage.duplicate().position((int) (k * bytes))
                        .put(src.duplicate().limit(src.position() + (int) bytes));
            }
            uploadIds(round, ids, s);
            cuMemcpyHtoDAsync(deviceStage[s], hostStage[s], round.length * bytes, copy);
            dev.launchOn(copy, "kv_scatter", round.length * layout.runsPerBlock(), 1, 1, THREADS, 0, keys, values,
                    deviceIds[s], deviceStage[s], layout.layers(), layout.layerStrideBytes() / 16,
                    (int) (layout.runBytes() / 16));
            cuEventRecord(done[s], copy);
        }
        cuEventRecord(copied, copy);
        cuStreamWaitEvent(dev.stream, copied, 0); // the next step reads the written blocks
        for (ByteBuffer src : srcs) src.position(src.position() + (int) bytes);
    }

    /** Waits until every queued copy is done (before a copy outside this path, or freeing). */
    void quiesce() {
        if (!open) return;
        dev.makeCurrent();
        cuStreamSynchronize(copy);
    }

    /** Allocates on first use; orders the copy stream after the compute stream's queued work. */
    private void begin() {
        dev.makeCurrent(); // the caller's thread may last have used another GPU's engine
        if (!open) allocate();
        cuEventRecord(computeMark, dev.stream);
        cuStreamWaitEvent(copy, computeMark, 0);
    }

    private void uploadIds(int[] round, int[] ids, int s) {
        IntBuffer out = hostIdsView[s];
        for (int k = 0; k < round.length; k++) out.put(k, ids[round[k]]);
        cuMemcpyHtoDAsync(deviceIds[s], hostIds[s], 4L * round.length, copy);
    }

    /** Waits for slot {@code s}'s round and copies its blocks from pinned memory to their buffers. */
    private void drain(int[] round, ByteBuffer[] dsts, int s) {
        cuEventSynchronize(done[s]);
        long bytes = layout.blockBytes();
        for (int k = 0; k < round.length; k++) {
            int from = (int) (k * bytes);
            dsts[round[k]].put(hostStageView[s].duplicate().position(from).limit(from + (int) bytes));
        }
    }

    private void allocate() {
        try {
            copy = new CUstream();
            cuStreamCreate(copy, CUstream_flags.CU_STREAM_NON_BLOCKING);
            computeMark = event();
            copied = event();
            for (int s = 0; s < SLOTS; s++) {
                done[s] = event();
                deviceStage[s] = dev.alloc(slotBytes, "KV copy staging (" + roundBlocks + " blocks)");
                deviceIds[s] = dev.alloc(4L * roundBlocks, "KV copy block ids");
                hostStage[s] = pinned(slotBytes);
                hostStageView[s] = hostStage[s].getByteBuffer(0, slotBytes);
                hostIds[s] = pinned(4L * roundBlocks);
                hostIdsView[s] = hostIds[s].getByteBuffer(0, 4L * roundBlocks).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
            }
            open = true;
        } catch (RuntimeException e) {
            open = true;
            close();
            throw e;
        }
    }

    private static CUevent event() {
        CUevent e = new CUevent();
        cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        return e;
    }

    private static Pointer pinned(long bytes) {
        Pointer p = new Pointer();
        cuMemAllocHost(p, bytes);
        return p;
    }

    @Override
    public void close() {
        if (!open) return;
        open = false;
        dev.makeCurrent();
        try {
            if (copy != null) cuStreamSynchronize(copy);
        } finally {
            for (int s = 0; s < SLOTS; s++) {
                dev.free(deviceStage[s]);
                dev.free(deviceIds[s]);
                if (hostStage[s] != null) cuMemFreeHost(hostStage[s]);
                if (hostIds[s] != null) cuMemFreeHost(hostIds[s]);
                if (done[s] != null) cuEventDestroy(done[s]);
                deviceStage[s] = deviceIds[s] = null;
                hostStage[s] = hostIds[s] = null;
                done[s] = null;
            }
            if (computeMark != null) cuEventDestroy(computeMark);
            if (copied != null) cuEventDestroy(copied);
            if (copy != null) cuStreamDestroy(copy);
            computeMark = copied = null;
            copy = null;
        }
    }
}

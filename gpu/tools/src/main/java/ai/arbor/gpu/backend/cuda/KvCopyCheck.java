package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.KvBlockCopier;
import ai.arbor.gpu.backend.SequenceChunk;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The CUDA backend's KV block copies, byte for byte: known content written through the batched (pinned, gather /
 * scatter) path reads back identically through the single-block and the batched path, for non-contiguous ids, repeats
 * and several rounds; and the events order the copies against compute: a batched read queued right behind a forward
 * pass sees what the pass wrote, and a pass queued right behind a batched write sees the written blocks (its logits
 * equal those over the original blocks). Re-allocates the KV cache.
 */
final class KvCopyCheck {
    private static final int BLOCK = 16;
    private static final int BLOCKS = 48;
    /**
     * Max |logit difference| of one step over the same K/V bytes in other blocks: the kernels see identical inputs, so
     * only the order of atomic float adds may differ (none in a one-row decode today); far below what stale blocks give.
     */
    private static final double LOGIT_TOLERANCE = 1e-3;

    /** Outcome for one model and KV cache dtype. */
    record Result(String model, String kvCache, long blockBytes, List<String> failures, int comparisons) {
        boolean passed() { return failures.isEmpty() && comparisons > 0; }

        @Override
        public String toString() {
            return String.format("kv copy: %s %s (%s KV cache, %d-byte blocks) | %d exact comparisons of batched "
                            + "(pinned, gather/scatter) and single-block copies, ordering against compute%s",
                    passed() ? "PASS" : "FAIL", model, kvCache, blockBytes, comparisons,
                    failures.isEmpty() ? "" : " | FAILED: " + String.join("; ", failures));
        }
    }

    static Result run(String model, CudaBackend gpu, int vocab, boolean kvFloat32, PrintStream log) {
        gpu.allocateKvCache(BLOCKS, BLOCK);
        CudaKvBlockCopier copier = gpu.blockCopier();
        long bytes = copier.blockBytes();
        List<String> failures = new ArrayList<>();
        int[] compared = {0};
        Random rnd = new Random(11);

        // 1. content written in one batched call, read back alone and batched (shuffled, repeated)
        int[] ids = {5, 17, 2, 40, 41, 9, 30};
        ByteBuffer content = random(ids.length, bytes, rnd);
        copier.write(ids, content.duplicate());
        for (int i = 0; i < ids.length; i++) {
            ByteBuffer one = ByteBuffer.allocateDirect((int) bytes);
            copier.read(ids[i], one);
            same("single read of block " + ids[i], block(content, i, bytes), one.flip(), failures, compared);
        }
        int[] order = {41, 5, 5, 9, 2, 40, 17, 30, 41};
        int[] where = {4, 0, 0, 5, 2, 3, 1, 6, 4};
        ByteBuffer back = ByteBuffer.allocateDirect(order.length * (int) bytes);
        copier.read(order, back);
        for (int i = 0; i < order.length; i++) {
            same("batched read of block " + order[i] + " at " + i, block(content, where[i], bytes), block(back, i, bytes),
                    failures, compared);
        }

        // 2. the same through rounds of 3 blocks (two staging slots reused), a repeated id in a write: the last wins
        try (CudaKvBlockCopier small = copier.withStaging(3 * bytes)) {
            int[] many = {1, 3, 44, 3, 20, 21, 22, 0, 8, 12, 33};
            ByteBuffer more = random(many.length, bytes, rnd);
            small.write(many, more.duplicate());
            int[] readOrder = {12, 0, 3, 44, 1, 33, 8, 22, 21, 20, 3, 1};
            int[] expect = {9, 7, 3, 2, 0, 10, 8, 6, 5, 4, 3, 0};
            ByteBuffer got = ByteBuffer.allocateDirect(readOrder.length * (int) bytes);
            small.read(readOrder, got);
            for (int i = 0; i < readOrder.length; i++) {
                same("3-block rounds: block " + readOrder[i], block(more, expect[i], bytes), block(got, i, bytes),
                        failures, compared);
                ByteBuffer one = ByteBuffer.allocateDirect((int) bytes);
                copier.read(readOrder[i], one);
                same("3-block rounds, single read: block " + readOrder[i], block(more, expect[i], bytes), one.flip(),
                        failures, compared);
            }
        }

        // 3. a batched read queued right behind a forward pass (no synchronize between) sees what the pass wrote
        int[] prompt = rnd.ints(3 * BLOCK, 1, vocab).toArray();
        int[] table = {10, 11, 12, 13};
        copier.write(table, ByteBuffer.allocateDirect(table.length * (int) bytes)); // zeros
        StepInputs s = gpu.upload(new ForwardBatch(List.of(new SequenceChunk(prompt, 0, table, true))), false);
        gpu.pass().encode(s, false);
        ByteBuffer racing = ByteBuffer.allocateDirect(3 * (int) bytes);
        copier.read(new int[] {10, 11, 12}, racing);
        ByteBuffer settled = ByteBuffer.allocateDirect(3 * (int) bytes);
        for (int b = 10; b <= 12; b++) copier.read(b, settled);
        same("batched read right after a forward pass", settled.flip(), racing.flip(), failures, compared);
        if (settled.equals(ByteBuffer.allocateDirect(settled.remaining()))) failures.add("the forward pass wrote no K/V");

        // 4. a forward pass queued right behind a batched write reads the written blocks: same logits as the originals
        int[] next = {prompt[0]};
        float[] original = gpu.forward(new ForwardBatch(List.of(new SequenceChunk(next, 3 * BLOCK, table, true))))[0];
        int[] batchedTable = {20, 21, 22, 23};
        copier.write(new int[] {20, 21, 22}, settled.duplicate());
        float[] batched = gpu.forward(new ForwardBatch(List.of(new SequenceChunk(next, 3 * BLOCK, batchedTable, true))))[0];
        int[] singleTable = {30, 31, 32, 33};
        ByteBuffer src = settled.duplicate();
        for (int b = 30; b <= 32; b++) copier.write(b, src);
        float[] single = gpu.forward(new ForwardBatch(List.of(new SequenceChunk(next, 3 * BLOCK, singleTable, true))))[0];
        // control: the same step over zeroed blocks, what a step that ran before the scatter would have seen
        int[] zeroTable = {40, 41, 42, 43};
        copier.write(new int[] {40, 41, 42}, ByteBuffer.allocateDirect(3 * (int) bytes));
        float[] zeros = gpu.forward(new ForwardBatch(List.of(new SequenceChunk(next, 3 * BLOCK, zeroTable, true))))[0];
        double dBatched = maxDiff(original, batched), dSingle = maxDiff(original, single), dZeros = maxDiff(original, zeros);
        compared[0] += 3;
        if (dBatched > LOGIT_TOLERANCE) failures.add("logits over batched-written blocks differ by " + dBatched);
        if (dSingle > LOGIT_TOLERANCE) failures.add("logits over single-written blocks differ by " + dSingle);
        if (dZeros <= 10 * LOGIT_TOLERANCE) failures.add("logits over zeroed blocks differ by only " + dZeros
                + ": the step does not depend on the blocks, so it checks nothing");
        log.printf("  kv copy: max |dlogit| of a step over the copied blocks: batched-written %.2e, single-written %.2e "
                + "(over zeroed blocks, the control: %.2e)%n", dBatched, dSingle, dZeros);

        // random bytes may be NaN as bf16 / fp32: zeros again, so no later pass over reused memory multiplies by them
        int[] all = new int[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) all[b] = b;
        copier.write(all, ByteBuffer.allocateDirect(BLOCKS * (int) bytes));
        Result r = new Result(model, kvFloat32 ? "fp32" : "bf16", bytes, failures, compared[0]);
        log.println("  " + r);
        return r;
    }

    private static ByteBuffer random(int blocks, long bytes, Random rnd) {
        byte[] b = new byte[blocks * (int) bytes];
        rnd.nextBytes(b);
        return ByteBuffer.allocateDirect(b.length).put(b).flip();
    }

    private static ByteBuffer block(ByteBuffer all, int i, long bytes) {
        return all.duplicate().position((int) (i * bytes)).limit((int) ((i + 1) * bytes)).slice();
    }

    private static void same(String what, ByteBuffer expected, ByteBuffer got, List<String> failures, int[] compared) {
        compared[0]++;
        int at = expected.mismatch(got);
        if (at >= 0) failures.add(what + " differs from byte " + at);
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}

package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A batch whose hidden states are wanted, cut into passes of at most {@code maxTokens} tokens: an embedding's prompt
 * may be as long as the model's context, but the activations were sized for the engine's largest step before the KV
 * cache took the rest of the memory ({@link StepLimits}), so a longer pass could not allocate them. A chunk cut in two
 * goes on as chunked prefill does: its later part starts at the next position and attends over the K/V the earlier part
 * wrote into the cache. The passes' tokens, in order, are the batch's tokens in order, so their rows concatenated are
 * the batch's rows. No chunk asks for logits.
 */
final class HiddenStatePasses {
    private HiddenStatePasses() {}

    static List<ForwardBatch> of(ForwardBatch batch, int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        List<ForwardBatch> passes = new ArrayList<>();
        List<SequenceChunk> current = new ArrayList<>();
        int room = maxTokens;
        for (SequenceChunk c : batch.chunks()) {
            int done = 0;
            do { // an empty chunk passes through, for the backend to reject as it would in forward
                int take = Math.min(room, c.tokens().length - done);
                current.add(new SequenceChunk(Arrays.copyOfRange(c.tokens(), done, done + take),
                        c.startPosition() + done, c.blockTable(), false));
                done += take;
                room -= take;
                if (room == 0) {
                    passes.add(new ForwardBatch(current));
                    current = new ArrayList<>();
                    room = maxTokens;
                }
            } while (done < c.tokens().length);
        }
        if (!current.isEmpty()) passes.add(new ForwardBatch(current));
        return passes;
    }
}

package ai.arbor.gpu.backend;

import ai.arbor.gpu.sample.SamplingRow;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.List;

/**
 * Optional capability of a {@link ComputeBackend}: a forward pass whose logits rows are sampled where they are, for
 * every parameter a request may carry, so only token ids (and requested logprobs) cross to the host. Rows of one step
 * may mix greedy and sampled requests with different parameters.
 */
public interface DeviceSampling {

    /** The tokens of one step, in batch order, and each row's logprobs (null where none were asked for). */
    record StepTokens(int[] tokens, TokenLogprobs[] logprobs) {}

    /**
     * Like {@link ComputeBackend#forward}, then one token per logits row: {@code rows.get(i)} describes the i-th
     * chunk that wants logits.
     */
    StepTokens forwardSampled(ForwardBatch batch, List<SamplingRow> rows);

    /** False when this step's rows need more per-sequence device state than is free (the engine samples on the host). */
    boolean canSample(List<SamplingRow> rows);

    /** The sequence ended: its device-side state (penalty token counts) may go. Unknown ids are ignored. */
    void release(String sequenceId);
}

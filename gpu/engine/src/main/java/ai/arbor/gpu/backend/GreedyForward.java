package ai.arbor.gpu.backend;

/**
 * Optional capability of a {@link ComputeBackend}: a forward pass that also picks each logits row's argmax on the
 * device, so only token ids cross to the host. An engine may use it for steps where every sequence samples greedily.
 */
public interface GreedyForward {

    /** Like {@link ComputeBackend#forward}, but returns the argmax token id of each logits row, in batch order. */
    int[] forwardGreedy(ForwardBatch batch);
}

package ai.arbor.gpu.backend;

/**
 * The tokens of one sequence that a forward pass computes: a whole or partial prompt (prefill chunk) or one decode
 * token. Positions {@code [0, startPosition)} are already in the paged KV cache (computed earlier or shared through
 * prefix caching); this pass writes K/V for positions {@code [startPosition, startPosition + tokens.length)} into the
 * slots that {@code blockTable} names (logical block {@code p / blockSize} -> physical block id) and attends over all
 * positions up to each token's own.
 *
 * @param wantLogits return the logits of this chunk's last token (false for a prefill chunk that is not the last)
 */
public record SequenceChunk(int[] tokens, int startPosition, int[] blockTable, boolean wantLogits) {
    public int endPosition() { return startPosition + tokens.length; }
}

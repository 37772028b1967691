package ai.arbor.gpu.sched;

/**
 * What one request computes in a step: tokens {@code [startPosition, startPosition + numTokens)} of its sequence.
 *
 * @param wantLogits the chunk reaches the end of the known sequence, so the step yields a next token for it
 */
public record ScheduledChunk(Request request, int startPosition, int numTokens, boolean wantLogits) {}

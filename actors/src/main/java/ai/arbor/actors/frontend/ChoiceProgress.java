package ai.arbor.actors.frontend;

import ai.arbor.gpu.protocol.RequestOutput;
import java.util.Arrays;

/**
 * One choice's tokens generated so far and the engine request now producing them. A choice starts as the engine
 * request {@code engineRequestId}; after its worker is lost it continues as a new engine request (an attempt) on
 * another worker, whose prompt is the original prompt plus these tokens. The stream keeps seeing one choice: an
 * attempt's outputs are renamed to the choice's id, with token counts over the whole choice, and a lost attempt's late
 * outputs are dropped, so no token is repeated or missed.
 *
 * <p>Outputs arrive on a worker's engine thread (a worker in this JVM) or on the request actor: {@link #deliver}
 * checks, appends and hands on under one lock, so a migration in between sees exactly the tokens the stream got.
 */
final class ChoiceProgress {
    private final String engineRequestId;
    private final int promptTokens;
    private String attemptId;
    private boolean migrated;
    private int[] generated = new int[16];
    private int count;
    private int cachedTokens;

    ChoiceProgress(String engineRequestId, int promptTokens) {
        this.engineRequestId = engineRequestId;
        this.promptTokens = promptTokens;
        this.attemptId = engineRequestId;
    }

    /**
     * Appends {@code out}'s tokens and hands it, as the choice's own output, to {@code channel}; false if it belongs to
     * an attempt no longer running (nothing delivered).
     */
    synchronized boolean deliver(RequestOutput out, EventChannel channel) {
        if (!attemptId.equals(out.requestId())) return false;
        int[] ids = out.newTokenIds();
        if (count + ids.length > generated.length) {
            generated = Arrays.copyOf(generated, Math.max(generated.length * 2, count + ids.length));
        }
        System.arraycopy(ids, 0, generated, count, ids.length);
        count += ids.length;
        if (!migrated) {
            cachedTokens = out.cachedTokens();
            channel.offer(out);
        } else {
            channel.offer(new RequestOutput(engineRequestId, ids, out.logprobs(), out.finished(), out.finishReason(),
                    promptTokens, cachedTokens, count));
        }
        return true;
    }

    /** The running attempt's engine request id. */
    synchronized String attemptId() { return attemptId; }

    /** Starts attempt {@code migration}: from now on only its outputs count. Returns the tokens generated so far. */
    synchronized int[] nextAttempt(int migration) {
        attemptId = engineRequestId + "#m" + migration;
        migrated = true;
        return Arrays.copyOf(generated, count);
    }
}

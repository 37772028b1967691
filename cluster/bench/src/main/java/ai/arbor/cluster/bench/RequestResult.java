package ai.arbor.cluster.bench;

/**
 * What one request measured; all times in nanoseconds on {@link System#nanoTime()}'s clock.
 *
 * @param status           HTTP status, or 0 when no response came (connection refused, timeout)
 * @param error            why it failed, null when it succeeded
 * @param contentTimes     when each chunk carrying content arrived
 * @param promptTokens     from the final {@code usage}, -1 when the server sent none
 * @param completionTokens from {@code usage}, or the number of content chunks when the server sent no usage
 */
public record RequestResult(int index, boolean success, int status, String error, long sentAt, long doneAt,
                            long[] contentTimes, int promptTokens, int completionTokens, int cachedTokens,
                            String finishReason) {

    public long e2eNanos() { return doneAt - sentAt; }

    /** Time to the first content chunk; -1 when there was none. */
    public long ttftNanos() { return contentTimes.length == 0 ? -1 : contentTimes[0] - sentAt; }

    /** Mean time per output token after the first, vLLM's definition; -1 when fewer than two tokens came. */
    public double tpotNanos() {
        if (completionTokens < 2 || contentTimes.length == 0) {
            return -1;
        }
        return (double) (e2eNanos() - ttftNanos()) / (completionTokens - 1);
    }

    /** The category errors are counted by: the HTTP status, or the kind of failure when there was none. */
    public String errorKind() {
        if (success) {
            return null;
        }
        if (status != 0 && status != 200) {
            return "HTTP " + status;
        }
        return status == 200 ? "stream error" : "no response";
    }
}

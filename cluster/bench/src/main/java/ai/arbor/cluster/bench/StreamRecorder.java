package ai.arbor.cluster.bench;

import java.util.Arrays;
import java.util.concurrent.Flow;

/**
 * Receives the lines of one streaming response and timestamps them as they arrive. It is called by the HTTP client's
 * threads one line at a time (the line subscriber serialises its calls), so it needs no locking of its own.
 */
final class StreamRecorder implements Flow.Subscriber<String> {
    private final int index;
    private final long sentAt;
    private long[] contentTimes = new long[64];
    private int contentCount;
    private int promptTokens = -1;
    private int completionTokens = -1;
    private int cachedTokens;
    private String finishReason;
    private String error;
    private boolean sawDone;
    private boolean sawUsage;
    private volatile long completedAt;

    StreamRecorder(int index, long sentAt) {
        this.index = index;
        this.sentAt = sentAt;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
        long now = System.nanoTime();
        StreamChunk chunk;
        try {
            chunk = StreamChunk.parseLine(line);
        } catch (IllegalArgumentException e) {
            error = e.getMessage();
            return;
        }
        if (chunk == null) {
            return;
        }
        if (chunk.done()) {
            sawDone = true;
            return;
        }
        if (chunk.error() != null) {
            error = chunk.error();
        }
        if (!chunk.content().isEmpty()) {
            if (contentCount == contentTimes.length) {
                contentTimes = Arrays.copyOf(contentTimes, contentCount * 2);
            }
            contentTimes[contentCount++] = now;
        }
        if (chunk.finishReason() != null) {
            finishReason = chunk.finishReason();
        }
        if (chunk.hasUsage()) {
            sawUsage = true;
            promptTokens = chunk.promptTokens();
            completionTokens = chunk.completionTokens();
            cachedTokens = chunk.cachedTokens();
        }
    }

    @Override
    public void onError(Throwable throwable) {
        completedAt = System.nanoTime();
    }

    @Override
    public void onComplete() {
        completedAt = System.nanoTime();
    }

    /** The outcome of a 200 response whose body has ended. */
    RequestResult streamed() {
        long doneAt = completedAt != 0 ? completedAt : System.nanoTime();
        String why = error;
        if (why == null && !sawDone && !sawUsage) {
            why = "stream ended without [DONE]";
        }
        int completion = sawUsage ? completionTokens : contentCount;
        return new RequestResult(index, why == null, 200, why, sentAt, doneAt,
                Arrays.copyOf(contentTimes, contentCount), promptTokens, completion, cachedTokens, finishReason);
    }

    /** The outcome of a request that got no response, or one with an error status. */
    RequestResult failed(int status, String why) {
        return new RequestResult(index, false, status, why, sentAt, System.nanoTime(), new long[0], -1, 0, 0, null);
    }
}

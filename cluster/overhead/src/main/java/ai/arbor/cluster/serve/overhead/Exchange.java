package ai.arbor.cluster.serve.overhead;

/**
 * One request as its client saw it, in {@link System#nanoTime()}: sent, each output token's text fully received
 * (streamed responses only), response complete.
 *
 * @param id the response's id ({@code chatcmpl-…}), which is also the engine's request id
 * @param tokenAt when token k's text had fully arrived, at index k - 1; null for a non-streamed response
 */
record Exchange(String id, long sentAt, long[] tokenAt, long doneAt) {}

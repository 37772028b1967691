package ai.arbor.gpu.sched;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.sample.Sampler;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.structured.ConstraintMatcher;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One request as the engine tracks it: its token sequence (prompt, then every sampled token), how much of it is in
 * the KV cache, and where its outputs go. A sampled token is appended before it is computed, so
 * {@code numTokens() - numComputedTokens()} is what the next forward pass must compute. Engine thread only.
 */
public final class Request {
    private final String id;
    private final SamplingParams sampling;
    private final RequestSink sink;
    private final SplittableRandom rng;
    private final long arrival;
    private final int priority;
    private final int promptLength;
    private final ConstraintMatcher constraint;
    private int[] tokens;
    private int numTokens;
    int numComputedTokens;
    int numCachedTokens = -1;
    RequestStatus status = RequestStatus.WAITING;

    public Request(EngineRequest r, RequestSink sink, long arrival) {
        this(r, sink, arrival, null);
    }

    /** @param constraint where the request is in its structured-output constraint, or null for free text */
    public Request(EngineRequest r, RequestSink sink, long arrival, ConstraintMatcher constraint) {
        this.constraint = constraint;
        this.id = r.requestId();
        this.sampling = r.sampling();
        this.sink = sink;
        this.rng = Sampler.rngFor(r.sampling());
        this.arrival = arrival;
        this.priority = 0;
        this.promptLength = r.promptTokenIds().length;
        int room = promptLength + Math.min(Math.max(r.sampling().maxTokens(), 1), 256);
        this.tokens = Arrays.copyOf(r.promptTokenIds(), room);
        this.numTokens = promptLength;
    }

    public String id() { return id; }

    public SamplingParams sampling() { return sampling; }

    public RequestSink sink() { return sink; }

    /** The request's structured-output state, advanced with each token; null for free text. */
    public ConstraintMatcher constraint() { return constraint; }

    public SplittableRandom rng() { return rng; }

    /** Order of arrival; among equal priorities the latest arrival is preempted first. */
    public long arrival() { return arrival; }

    /** Lower runs first, as vLLM's priority. */
    public int priority() { return priority; }

    /** The backing array; only {@code [0, numTokens())} is meaningful. */
    public int[] tokens() { return tokens; }

    public int numTokens() { return numTokens; }

    public int promptLength() { return promptLength; }

    public int numOutputTokens() { return numTokens - promptLength; }

    public int numComputedTokens() { return numComputedTokens; }

    /** Prompt tokens the prefix cache supplied when the request was first scheduled (0 before). */
    public int numCachedTokens() { return Math.max(numCachedTokens, 0); }

    public RequestStatus status() { return status; }

    public int lastToken() { return tokens[numTokens - 1]; }

    public void appendToken(int token) {
        if (numTokens == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[numTokens++] = token;
    }

    @Override
    public String toString() {
        return "Request[" + id + ", " + status + ", tokens=" + numTokens + ", computed=" + numComputedTokens + "]";
    }
}

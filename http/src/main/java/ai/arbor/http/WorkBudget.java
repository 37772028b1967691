package ai.arbor.http;

import ai.arbor.config.RequestLimits;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission by work rather than by HTTP request: the sequences (prompts × n) in flight at this frontend and, per
 * model, the tokens they may take (prompt + max_tokens each). One request asking for 128k sequences cannot pass as
 * "one request"; a request that would go over a bound gets 429, one that could never fit gets 400.
 */
final class WorkBudget {
    private final RequestLimits limits;
    private final AtomicLong sequences = new AtomicLong();
    private final ConcurrentHashMap<String, AtomicLong> tokensByModel = new ConcurrentHashMap<>();

    WorkBudget(RequestLimits limits) { this.limits = limits; }

    /** The work one parsed request asks for. */
    record Work(String model, int sequences, long tokens) {}

    static Work of(ParsedRequest r) {
        long tokens = 0;
        for (int[] p : r.prompts()) tokens += (long) r.n() * (p.length + r.sampling().maxTokens());
        return new Work(r.model().name(), r.prompts().size() * r.n(), tokens);
    }

    /**
     * Takes the request's share, or throws 429 (busy now) or 400 (never fits). Both bounds are checked before either
     * count grows (releases only shrink them, so checking under the lock is enough): adding first and taking it back
     * when over would let a refused request's share be seen for a moment and refuse a smaller one that fits.
     */
    synchronized void acquire(Work w) {
        if (w.tokens() > limits.maxQueuedTokens()) {
            throw ApiError.badRequest("this request asks for " + w.tokens() + " tokens (prompt + max_tokens, times n,"
                    + " for every prompt); a model queues at most " + limits.maxQueuedTokens());
        }
        if (sequences.get() + w.sequences() > limits.maxQueuedSequences()) {
            throw busy("too many sequences in flight (limit " + limits.maxQueuedSequences() + "); retry later");
        }
        AtomicLong tokens = tokensByModel.computeIfAbsent(w.model(), m -> new AtomicLong());
        if (tokens.get() + w.tokens() > limits.maxQueuedTokens()) {
            throw busy("too many tokens queued for model '" + w.model() + "' (limit " + limits.maxQueuedTokens()
                    + "); retry later");
        }
        sequences.addAndGet(w.sequences());
        tokens.addAndGet(w.tokens());
    }

    void release(Work w) {
        sequences.addAndGet(-w.sequences());
        tokensByModel.get(w.model()).addAndGet(-w.tokens());
    }

    long sequencesInFlight() { return sequences.get(); }

    long tokensInFlight(String model) {
        AtomicLong t = tokensByModel.get(model);
        return t == null ? 0 : t.get();
    }

    static ApiError busy(String message) {
        return new ApiError(429, "rate_limit_error", message, null, "too_many_requests");
    }
}

package ai.arbor.http;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the requests in flight at this frontend. Past the bound a request is refused at once with 429, before it
 * costs tokenizing or a KV block.
 */
public final class Admission {
    private final int limit;
    private final AtomicInteger inFlight = new AtomicInteger();

    public Admission(int limit) { this.limit = limit; }

    /** Takes a slot, or returns false when all are taken. */
    public boolean tryAcquire() {
        while (true) {
            int n = inFlight.get();
            if (n >= limit) return false;
            if (inFlight.compareAndSet(n, n + 1)) return true;
        }
    }

    public void release() { inFlight.decrementAndGet(); }

    public int inFlight() { return inFlight.get(); }

    public int limit() { return limit; }
}

package ai.arbor.cluster.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends the prompts on their arrival schedule, never more than {@code concurrency} at a time. Only the calling thread
 * waits (for the next arrival or a free slot); the requests themselves run on the client's asynchronous machinery.
 */
public final class RequestDriver {
    /** Told about each request as it finishes, from the client's threads. */
    public interface Listener {
        void finished(RequestResult result);
    }

    /** All results in prompt order, and when the run started and ended. */
    public record Run(List<RequestResult> results, long startNanos, long endNanos) {
        public double durationSeconds() { return (endNanos - startNanos) / 1e9; }
    }

    private final StreamingClient client;

    public RequestDriver(StreamingClient client) {
        this.client = client;
    }

    /** @param concurrency at most this many in flight; 0 for no limit */
    public Run run(List<BenchPrompt> prompts, long[] offsetsNanos, int concurrency, Listener listener) {
        if (offsetsNanos.length != prompts.size()) {
            throw new IllegalArgumentException("one arrival per prompt");
        }
        Semaphore slots = concurrency > 0 ? new Semaphore(concurrency) : null;
        List<CompletableFuture<RequestResult>> futures = new ArrayList<>(prompts.size());
        String[] bodies = new String[prompts.size()];
        for (int i = 0; i < bodies.length; i++) {
            bodies[i] = client.body(prompts.get(i));
        }
        long start = System.nanoTime();
        for (int i = 0; i < prompts.size(); i++) {
            long due = start + offsetsNanos[i];
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            if (slots != null) {
                slots.acquireUninterruptibly();
            }
            futures.add(client.send(i, bodies[i]).whenComplete((r, t) -> {
                if (slots != null) {
                    slots.release();
                }
                if (r != null) {
                    listener.finished(r);
                }
            }));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
        long end = System.nanoTime();
        RequestResult[] results = new RequestResult[futures.size()];
        for (int i = 0; i < results.length; i++) {
            results[i] = futures.get(i).join();
        }
        return new Run(Arrays.asList(results), start, end);
    }
}

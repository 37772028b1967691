package ai.arbor.gpu.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Fixed worker threads that split an index range with the calling thread. A forward pass runs a few hundred short
 * parallel regions back to back, so workers spin briefly between regions before parking: waking a parked thread costs
 * tens of microseconds, which adds up over ~100 regions per decode step. Chunks are handed out dynamically, so a core
 * that other processes slow down simply takes fewer chunks.
 */
final class WorkerPool implements AutoCloseable {

    /** Body of a parallel loop over {@code [from, to)}. */
    @FunctionalInterface
    interface RangeTask {
        void run(int from, int to);
    }

    private static final long SPIN_NANOS = 200_000;

    private final Thread[] workers;
    private volatile Job job;
    private volatile long generation;
    private volatile boolean closed;

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "arbor-cpu-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
        }
        for (Thread t : workers) t.start();
    }

    int threads() { return workers.length + 1; }

    /**
     * Smallest chunk of a loop whose items cost {@code workPerItem} multiply-adds each that is worth handing to
     * another thread (about ten microseconds of work), so small models do not pay more in hand-offs than they gain.
     */
    static int minChunk(long workPerItem) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, MIN_WORK / Math.max(1, workPerItem)));
    }

    private static final long MIN_WORK = 1 << 18;

    /**
     * Runs {@code task} over {@code [0, n)} in chunks of at least {@code minChunk} indices, on every thread of the
     * pool, and returns when all of it is done. Only one caller thread may use the pool at a time.
     */
    void parallelFor(int n, int minChunk, RangeTask task) {
        if (n <= 0) return;
        int threads = threads();
        int chunk = Math.max(Math.max(1, minChunk), (n + threads * 4 - 1) / (threads * 4));
        if (threads == 1 || n <= chunk) {
            task.run(0, n);
            return;
        }
        Job j = new Job(task, n, chunk);
        job = j;
        generation = generation + 1;
        for (Thread t : workers) LockSupport.unpark(t);
        j.work();
        // Wait for chunks still running elsewhere, not for workers that never got one: on a loaded machine a worker
        // may not even be scheduled before the caller has done all the work.
        long spins = 0;
        while (j.completed.get() < n && j.error.get() == null) {
            if (++spins < 10_000) Thread.onSpinWait();
            else Thread.yield();
        }
        Throwable error = j.error.get();
        if (error instanceof RuntimeException re) throw re;
        if (error instanceof Error e) throw e;
        if (error != null) throw new IllegalStateException(error);
    }

    private void workerLoop() {
        long seen = 0;
        while (!closed) {
            long start = System.nanoTime();
            while (generation == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.park(this); // parallelFor and close unpark; a stale permit only costs one more check
            }
            if (closed) return;
            seen = generation;
            job.work();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }

    private static final class Job {
        final RangeTask task;
        final int n;
        final int chunk;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Job(RangeTask task, int n, int chunk) {
            this.task = task;
            this.n = n;
            this.chunk = chunk;
        }

        void work() {
            while (error.get() == null) {
                int from = next.getAndAdd(chunk);
                if (from >= n) return;
                int to = Math.min(n, from + chunk);
                try {
                    task.run(from, to);
                    completed.addAndGet(to - from);
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                    return;
                }
            }
        }
    }
}

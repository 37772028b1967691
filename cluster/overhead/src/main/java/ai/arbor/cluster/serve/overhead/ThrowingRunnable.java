package ai.arbor.cluster.serve.overhead;

/** A piece of the benchmark to run that may throw (its I/O, a run of clients). */
interface ThrowingRunnable {
    void run() throws Exception;
}

package ai.arbor.cluster.bench;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A validated benchmark configuration.
 *
 * @param dataset     random, shared-prefix or file
 * @param concurrency at most this many requests in flight; 0 for no limit
 * @param requestRate requests per second of the Poisson arrivals; infinity sends all at once
 * @param inputLen    prompt tokens (random), or the unique suffix after the common prefix (shared-prefix)
 * @param warmup      requests sent one at a time before the measured run and left out of it
 */
public record BenchSettings(URI url, String model, Endpoint endpoint, String dataset, int numPrompts,
                            int concurrency, double requestRate, int inputLen, int outputLen, int prefixLen,
                            int numGroups, int promptsPerGroup, long seed, Path datasetPath, Path tokenizerDir,
                            Path output, Path plot, Duration timeout, boolean progress, int warmup) {

    public BenchSettings withModel(String m) {
        return new BenchSettings(url, m, endpoint, dataset, numPrompts, concurrency, requestRate, inputLen, outputLen,
                prefixLen, numGroups, promptsPerGroup, seed, datasetPath, tokenizerDir, output, plot, timeout,
                progress, warmup);
    }
}

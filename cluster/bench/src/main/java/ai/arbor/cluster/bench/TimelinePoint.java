package ai.arbor.cluster.bench;

/** Throughput in one time bin of the run; {@code startSeconds} counts from the first request sent. */
public record TimelinePoint(double startSeconds, double outputTokensPerSecond, double requestsPerSecond,
                            int inFlight) {
}

package ai.arbor.cluster.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Scrapes the server's own {@code /metrics} around a run, so the report can set the server's counts next to what the
 * client measured. Best effort: a server without metrics just gets no such section.
 */
final class ServerMetrics {
    /** Arbor rebuilds its exposition at most every 10 s (its metrics tick); a little more covers a late tick. */
    static final Duration MAX_TICK_WAIT = Duration.ofSeconds(12);
    /** Arbor's workers copy their engine's counters into metrics every second; this covers one such sample. */
    static final Duration SAMPLE_SETTLE = Duration.ofMillis(1500);

    private ServerMetrics() { }

    /**
     * A scrape the server rebuilt after this call, so it counts everything that happened before it: the exposition is
     * rebuilt once per tick, and an older one would leave the warm-up in a run's deltas or the run's tail out of them.
     * It first lets the workers' counter sampling catch up ({@link #SAMPLE_SETTLE}). Gives the latest scrape if none
     * changes within {@code maxWait}.
     */
    static Optional<PrometheusText> scrapeFresh(HttpClient http, URI base, Duration maxWait) {
        if (scrapeText(http, base).isEmpty()) {
            return Optional.empty();
        }
        String first = null;
        String latest = null;
        try {
            Thread.sleep(SAMPLE_SETTLE.toMillis());
            first = scrapeText(http, base).orElse("");
            latest = first;
            long deadline = System.nanoTime() + maxWait.toNanos();
            while (latest.equals(first) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                latest = scrapeText(http, base).orElse(latest);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return latest == null || latest.isEmpty() ? Optional.empty() : Optional.of(PrometheusText.parse(latest));
    }

    private static Optional<String> scrapeText(HttpClient http, URI base) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/metrics"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}

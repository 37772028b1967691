package ai.arbor.actors.metrics;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import kamon.Kamon;
import kamon.prometheus.PrometheusReporter;

/**
 * Starts Kamon with its Prometheus reporter once per JVM and hands out the exposition text. Kamon's own HTTP server
 * (0.0.0.0:9095) stays off: the text is served by our {@code GET /metrics} routes, so metrics share the frontend and
 * management ports and no extra port needs opening. The text is rebuilt every tick, so the tick bounds staleness.
 */
public final class ArborMetrics {
    /** Prometheus scrapes every 10-15 s by convention; a tick of 10 s keeps a scrape at most one tick old. */
    public static final Duration DEFAULT_TICK = Duration.ofSeconds(10);

    private static boolean started;

    private ArborMetrics() {}

    /** Starts Kamon with {@link #DEFAULT_TICK} unless {@code arbor.metrics.tick-interval} (a system property) says otherwise. */
    public static void start() {
        String tick = System.getProperty("arbor.metrics.tick-interval");
        start(tick == null ? DEFAULT_TICK : ConfigFactory.parseString("t=" + tick).getDuration("t"));
    }

    /** Idempotent: the first caller's tick wins, because Kamon is one registry per JVM. */
    public static synchronized void start(Duration tick) {
        if (started) return;
        if (tick.isNegative() || tick.isZero() || tick.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("metrics tick-interval must be in (0, 10s], got " + tick);
        }
        Config ours = ConfigFactory.parseString(
                "kamon.metric.tick-interval = " + tick.toMillis() + "ms\n"
                        + "kamon.metric.optimistic-tick-alignment = no\n"
                        + "kamon.prometheus.start-embedded-http-server = no\n"
                        + "kamon.prometheus.include-environment-tags = no\n"
                        + "kamon.modules.prometheus-reporter.enabled = yes\n"
                        + Buckets.HOCON);
        Kamon.initWithoutAttaching(ours.withFallback(ConfigFactory.load()));
        JvmMetrics.start();
        started = true;
    }

    /** The latest Prometheus text exposition (version 0.0.4); empty before the first tick. */
    public static String scrape() {
        var data = PrometheusReporter.latestScrapeData();
        return data.isDefined() ? data.get() : "";
    }
}

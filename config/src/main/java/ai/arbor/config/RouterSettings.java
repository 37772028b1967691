package ai.arbor.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code arbor.router}: which worker-selection strategy a router uses ({@code kv}, {@code round-robin},
 * {@code random}, {@code least-loaded}) and the KV-aware router's knobs.
 *
 * @param overlapWeight      weight of the prefill blocks a worker would still compute, against its decode load
 * @param temperature        0 = lowest cost wins; above 0 = sample a softmax over normalised costs
 * @param resetStates        purge stored KV events and the index snapshot at start ({@code --router-reset-states})
 * @param snapshotInterval   how often a router considers saving its index snapshot (0 = never)
 * @param snapshotMinEvents  events applied since the last snapshot before a new one is saved
 * @param loadSyncInterval   how often router replicas re-announce their whole in-flight set to each other
 */
public record RouterSettings(String mode, double overlapWeight, double temperature, boolean resetStates,
                             Duration snapshotInterval, long snapshotMinEvents, Duration loadSyncInterval) {

    /** Just a mode, every KV knob at its default (for callers that predate the knobs). */
    public RouterSettings(String mode) {
        this(mode, 2.0, 0.0, false, Duration.ofSeconds(30), 10_000, Duration.ofSeconds(1));
    }

    public RouterSettings {
        if (!(overlapWeight >= 0) || Double.isInfinite(overlapWeight)) {
            throw new IllegalArgumentException("arbor.router.overlap-weight must be a finite number >= 0, got " + overlapWeight);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("arbor.router.temperature must be a finite number >= 0, got " + temperature);
        }
        if (snapshotInterval.isNegative()) {
            throw new IllegalArgumentException("arbor.router.snapshot-interval must not be negative, got " + snapshotInterval);
        }
        if (snapshotMinEvents < 0) {
            throw new IllegalArgumentException("arbor.router.snapshot-min-events must be >= 0, got " + snapshotMinEvents);
        }
        if (loadSyncInterval.isNegative() || loadSyncInterval.isZero()) {
            throw new IllegalArgumentException("arbor.router.load-sync-interval must be positive, got " + loadSyncInterval);
        }
    }

    static RouterSettings from(Config c) {
        return new RouterSettings(c.getString("mode").trim().toLowerCase(java.util.Locale.ROOT),
                c.getDouble("overlap-weight"), c.getDouble("temperature"), c.getBoolean("reset-states"),
                c.getDuration("snapshot-interval"), c.getLong("snapshot-min-events"), c.getDuration("load-sync-interval"));
    }
}

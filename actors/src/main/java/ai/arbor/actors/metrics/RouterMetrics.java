package ai.arbor.actors.metrics;

import kamon.Kamon;
import kamon.metric.MeasurementUnit;
import kamon.tag.TagSet;

/**
 * The router's metrics (Dynamo's meanings): time spent deciding, per stage; the share of a routed request's prompt
 * blocks already cached on the chosen worker; KV events applied to the router's index.
 */
public final class RouterMetrics {
    static final String OVERHEAD = "arbor.router.overhead";
    static final String KV_HIT_RATE = "arbor.router.kv.hit.rate";
    static final String KV_EVENTS_APPLIED = "arbor.router.kv.events.applied";
    static final String DISAGGREGATED = "arbor.router.disaggregated.requests";

    /** Stage label values. */
    public static final String STAGE_ROUTE = "route";
    public static final String STAGE_SELECT = "select";

    private RouterMetrics() {}

    /** Nanoseconds spent in {@code stage} for one routing decision of {@code model}. */
    public static void overhead(String model, String stage, long nanos) {
        Kamon.histogram(OVERHEAD, MeasurementUnit.time().nanoseconds())
                .withTags(TagSet.builder().add("model", model).add("stage", stage).build()).record(Math.max(0, nanos));
    }

    /** One KV-aware decision: its selection time (stage {@code select}) and its hit rate. */
    public static void kvDecision(String model, long selectNanos, int overlapBlocks, int promptBlocks) {
        overhead(model, STAGE_SELECT, selectNanos);
        kvHitRate(model, overlapBlocks, promptBlocks);
    }

    /** The last decision's hit rate: cached blocks on the chosen worker over the prompt's blocks. */
    public static void kvHitRate(String model, int overlapBlocks, int promptBlocks) {
        if (promptBlocks <= 0) return;
        Kamon.gauge(KV_HIT_RATE).withTag("model", model).update((double) overlapBlocks / promptBlocks);
    }

    /** A request the router sent to a decode worker with its prompt computed by a prefill worker. */
    public static void disaggregated(String model) {
        kamon.Kamon.counter(DISAGGREGATED).withTag("model", model).increment();
    }

    public static void kvEventsApplied(String model, long events) {
        if (events > 0) kvEventsAppliedCounter(model).increment(events);
    }

    /** The counter {@link #kvEventsApplied} adds to, for a caller that keeps it (a lookup costs as much as 30 events). */
    public static kamon.metric.Counter kvEventsAppliedCounter(String model) {
        return Kamon.counter(KV_EVENTS_APPLIED).withTag("model", model);
    }
}

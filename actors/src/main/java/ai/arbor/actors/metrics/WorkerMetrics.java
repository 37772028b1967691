package ai.arbor.actors.metrics;

import ai.arbor.gpu.protocol.EngineStats;
import java.time.Duration;
import java.util.function.Supplier;
import kamon.Kamon;
import kamon.metric.MeasurementUnit;
import kamon.tag.TagSet;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A worker's engine metrics, sampled from {@link EngineStats} on the actor system's scheduler rather than in the
 * engine's step loop, so metrics never slow a step. Engine totals become counters by their growth since the last
 * sample; batch size and step duration are those of the last step at each sample (a sample of steps, not every step).
 */
public final class WorkerMetrics implements AutoCloseable {
    static final String KV_BLOCKS_ACTIVE = "arbor.worker.kv.blocks.active";
    static final String KV_BLOCKS_TOTAL = "arbor.worker.kv.blocks.total";
    static final String KV_USAGE = "arbor.worker.kv.cache.usage.ratio";
    static final String PREFIX_QUERIES = "arbor.worker.prefix.cache.queries";
    static final String PREFIX_HITS = "arbor.worker.prefix.cache.hits";
    static final String RUNNING = "arbor.worker.requests.running";
    static final String WAITING = "arbor.worker.requests.waiting";
    static final String PREEMPTIONS = "arbor.worker.preemptions";
    static final String BATCH_SIZE = "arbor.worker.batch.size";
    static final String STEP_DURATION = "arbor.worker.step.duration";
    static final String GENERATED_TOKENS = "arbor.worker.generated.tokens";
    static final String KV_HOST_BLOCKS = "arbor.worker.kv.host.blocks";
    static final String KV_ONBOARDED_BLOCKS = "arbor.worker.kv.onboarded.blocks";

    public static final Duration SAMPLE_EVERY = Duration.ofSeconds(1);

    private final Supplier<EngineStats> stats;
    private final TagSet tags;
    private final Cancellable schedule;
    private EngineStats last;

    private WorkerMetrics(ActorSystem<?> system, String workerId, String model, Supplier<EngineStats> stats,
                          Duration every) {
        this.stats = stats;
        this.tags = TagSet.builder().add("worker", workerId).add("model", model).build();
        this.schedule = system.scheduler().scheduleAtFixedRate(Duration.ZERO, every, this::sample,
                system.executionContext());
    }

    /** Samples {@code stats} every {@link #SAMPLE_EVERY} until closed; {@code stats} must be cheap and non-blocking. */
    public static WorkerMetrics start(ActorSystem<?> system, String workerId, String model, Supplier<EngineStats> stats) {
        return new WorkerMetrics(system, workerId, model, stats, SAMPLE_EVERY);
    }

    // scheduleAtFixedRate never runs two of these at once
    private synchronized void sample() {
        EngineStats s;
        try {
            s = stats.get();
        } catch (RuntimeException e) {
            return; // an engine that is closing: the next sample or close() settles it
        }
        if (s == null) return;
        Kamon.gauge(KV_BLOCKS_ACTIVE).withTags(tags).update(s.kvBlocksActive());
        Kamon.gauge(KV_BLOCKS_TOTAL).withTags(tags).update(s.kvBlocksTotal());
        Kamon.gauge(KV_USAGE).withTags(tags).update(s.kvCacheUsage());
        Kamon.gauge(RUNNING).withTags(tags).update(s.runningRequests());
        Kamon.gauge(WAITING).withTags(tags).update(s.waitingRequests());
        EngineStats prev = last == null ? new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) : last;
        grow(PREFIX_QUERIES, s.prefixCacheQueries() - prev.prefixCacheQueries());
        grow(PREFIX_HITS, s.prefixCacheHits() - prev.prefixCacheHits());
        grow(PREEMPTIONS, s.preemptions() - prev.preemptions());
        grow(GENERATED_TOKENS, s.generatedTokens() - prev.generatedTokens());
        Kamon.gauge(KV_HOST_BLOCKS).withTags(tags).update(s.hostKvBlocks());
        grow(KV_ONBOARDED_BLOCKS, tags.withTag("source", "host"), s.onboardedHostBlocks() - prev.onboardedHostBlocks());
        grow(KV_ONBOARDED_BLOCKS, tags.withTag("source", "peer"), s.onboardedPeerBlocks() - prev.onboardedPeerBlocks());
        if (s.steps() > prev.steps()) {
            Kamon.histogram(BATCH_SIZE).withTags(tags).record(s.lastBatchSize());
            Kamon.histogram(STEP_DURATION, MeasurementUnit.time().nanoseconds()).withTags(tags).record(s.lastStepNanos());
        }
        last = s;
    }

    private void grow(String counter, long by) {
        grow(counter, tags, by);
    }

    /** Adds a sampled total's growth to a counter that exists from the first sample on (at 0), so rate() has a start. */
    static void grow(String counter, TagSet tags, long by) {
        var c = Kamon.counter(counter).withTags(tags);
        if (by > 0) c.increment(by);
    }

    @Override
    public synchronized void close() {
        schedule.cancel();
        for (String g : new String[] {KV_BLOCKS_ACTIVE, KV_BLOCKS_TOTAL, KV_USAGE, RUNNING, WAITING, KV_HOST_BLOCKS}) {
            Kamon.gauge(g).remove(tags);
        }
    }
}

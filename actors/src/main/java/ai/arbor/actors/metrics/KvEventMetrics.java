package ai.arbor.actors.metrics;

import java.time.Duration;
import java.util.function.Supplier;
import kamon.Kamon;
import kamon.tag.TagSet;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A worker's KV-event publishing, sampled on the actor system's scheduler: events dropped because the buffer was full
 * while NATS was down or slow (routers then see a gap and the worker resyncs), events published, resyncs, and the
 * queue's length. A dropped event costs routing quality, never an answer, so the counter is what tells an operator
 * that the buffer ({@code JetStreamKvEventBus.Settings}) or NATS needs attention.
 */
public final class KvEventMetrics implements AutoCloseable {
    static final String DROPPED = "arbor.worker.kv.events.dropped";
    static final String PUBLISHED = "arbor.worker.kv.events.published";
    static final String RESYNCS = "arbor.worker.kv.events.resyncs";
    static final String QUEUED = "arbor.worker.kv.events.queued";

    /** The publisher's totals at one moment. */
    public record Counts(long dropped, long published, long resyncs, int queued) {}

    private final Supplier<Counts> counts;
    private final TagSet tags;
    private final Cancellable schedule;
    private Counts last = new Counts(0, 0, 0, 0);

    private KvEventMetrics(ActorSystem<?> system, String model, String worker, Supplier<Counts> counts, Duration every) {
        this.counts = counts;
        this.tags = TagSet.builder().add("worker", worker).add("model", model).build();
        this.schedule = system.scheduler().scheduleAtFixedRate(Duration.ZERO, every, this::sample, system.executionContext());
    }

    /** Samples {@code counts} every {@link WorkerMetrics#SAMPLE_EVERY} until closed. */
    public static KvEventMetrics start(ActorSystem<?> system, String model, String worker, Supplier<Counts> counts) {
        return new KvEventMetrics(system, model, worker, counts, WorkerMetrics.SAMPLE_EVERY);
    }

    private synchronized void sample() {
        Counts c = counts.get();
        WorkerMetrics.grow(DROPPED, tags, c.dropped() - last.dropped());
        WorkerMetrics.grow(PUBLISHED, tags, c.published() - last.published());
        WorkerMetrics.grow(RESYNCS, tags, c.resyncs() - last.resyncs());
        Kamon.gauge(QUEUED).withTags(tags).update(c.queued());
        last = c;
    }

    @Override
    public synchronized void close() {
        schedule.cancel();
        Kamon.gauge(QUEUED).remove(tags);
    }
}

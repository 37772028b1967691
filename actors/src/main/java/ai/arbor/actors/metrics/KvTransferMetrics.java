package ai.arbor.actors.metrics;

import java.util.Locale;
import kamon.Kamon;
import kamon.metric.MeasurementUnit;
import kamon.tag.TagSet;

/**
 * KV block transfers between workers: {@code arbor_worker_kv_transfer_blocks_total{direction="sent|received"}},
 * {@code arbor_worker_kv_transfer_seconds} (one sample per transfer, either side) and, on the asking side,
 * {@code arbor_worker_kv_transfer_failures_total{op,reason}}, tagged with the worker. A failed transfer costs a
 * recompute and nothing else shows it, so its counter exists at 0 from the start, for alerts on its rate.
 */
public final class KvTransferMetrics {
    static final String BLOCKS = "arbor.worker.kv.transfer.blocks";
    static final String DURATION = "arbor.worker.kv.transfer";
    static final String FAILURES = "arbor.worker.kv.transfer.failures";

    /** The asking side's operations. */
    public enum Op { PULL, PREFILL, PUSH }

    /**
     * Why a transfer failed: its deadline passed, the connection failed (refused, reset, closed mid-reply: the peer
     * died or the network dropped it), or the peer answered with an error.
     */
    public enum Failure { DEADLINE, CONNECTION, PEER_ERROR }

    private final TagSet tags;

    public KvTransferMetrics(String workerId) {
        this.tags = TagSet.of("worker", workerId);
        for (Op op : Op.values()) {
            for (Failure why : Failure.values()) Kamon.counter(FAILURES).withTags(failureTags(op, why));
        }
    }

    public void failed(Op op, Failure why) { Kamon.counter(FAILURES).withTags(failureTags(op, why)).increment(); }

    private TagSet failureTags(Op op, Failure why) {
        return tags.withTag("op", label(op)).withTag("reason", label(why));
    }

    private static String label(Enum<?> e) { return e.name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    public void sent(int blocks, long nanos) { record("sent", blocks, nanos); }

    public void received(int blocks, long nanos) { record("received", blocks, nanos); }

    private void record(String direction, int blocks, long nanos) {
        TagSet t = tags.withTag("direction", direction);
        Kamon.counter(BLOCKS).withTags(t).increment(blocks);
        Kamon.histogram(DURATION, MeasurementUnit.time().nanoseconds()).withTags(t).record(nanos);
    }
}

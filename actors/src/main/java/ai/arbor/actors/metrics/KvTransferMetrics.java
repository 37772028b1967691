package ai.arbor.actors.metrics;

import kamon.Kamon;
import kamon.metric.MeasurementUnit;
import kamon.tag.TagSet;

/**
 * KV block transfers between workers: {@code arbor_worker_kv_transfer_blocks_total{direction="sent|received"}} and
 * {@code arbor_worker_kv_transfer_seconds} (one sample per transfer, either side), tagged with the worker.
 */
public final class KvTransferMetrics {
    static final String BLOCKS = "arbor.worker.kv.transfer.blocks";
    static final String DURATION = "arbor.worker.kv.transfer";

    private final TagSet tags;

    public KvTransferMetrics(String workerId) {
        this.tags = TagSet.of("worker", workerId);
    }

    public void sent(int blocks, long nanos) { record("sent", blocks, nanos); }

    public void received(int blocks, long nanos) { record("received", blocks, nanos); }

    private void record(String direction, int blocks, long nanos) {
        TagSet t = tags.withTag("direction", direction);
        Kamon.counter(BLOCKS).withTags(t).increment(blocks);
        Kamon.histogram(DURATION, MeasurementUnit.time().nanoseconds()).withTags(t).record(nanos);
    }
}

package ai.arbor.actors.kvevents;

import java.util.List;

/** Consecutive events of one worker, in event-id order: the unit that goes over the wire (one NATS message). */
public record KvEventBatch(long workerId, List<BlockEvent> events) {
    public KvEventBatch {
        events = List.copyOf(events);
    }
}

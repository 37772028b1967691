package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;

/** One engine KV event as the router sees it: which worker it came from (the event id is inside the event). */
public record KvRouterEvent(long workerId, KvEvent event) {
    public long eventId() { return event.eventId(); }
}

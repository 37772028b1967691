package ai.arbor.gpu.protocol;

import java.util.List;

/** Receives an engine's KV events once per step, on the engine thread: implementations hand off and never block. */
@FunctionalInterface
public interface KvEventListener {
    void onKvEvents(List<KvEvent> events);
}

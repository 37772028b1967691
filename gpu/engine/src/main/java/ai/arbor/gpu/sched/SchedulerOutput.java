package ai.arbor.gpu.sched;

import java.util.List;

/**
 * One step's plan: the chunks to compute (running requests first, then newly admitted ones) and the requests
 * preempted to make room.
 */
public record SchedulerOutput(List<ScheduledChunk> chunks, List<Request> preempted, int numScheduledTokens) {
    public boolean isEmpty() { return chunks.isEmpty(); }
}

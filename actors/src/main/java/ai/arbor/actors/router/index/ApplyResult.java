package ai.arbor.actors.router.index;

/** What {@link RadixIndex#apply} did with one worker's event. */
public enum ApplyResult {
    /** The event was the next one expected from that worker and is now in the index. */
    APPLIED,
    /** The event id was at or below the last one applied (a replay after a snapshot, or a redelivery): ignored. */
    DUPLICATE,
    /**
     * Events were missing before this one: the worker's earlier blocks were dropped (their removals may be among the
     * missing events), this event was applied, and the worker should be asked to resync.
     */
    GAP
}

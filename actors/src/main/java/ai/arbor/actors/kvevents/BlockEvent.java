package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;

/**
 * A KV event as it travels from a worker to the routers: block hashes and the router's own local hashes of each block,
 * never token ids. Token ids on the bus would let any subscriber (and JetStream, which keeps them) read the prompts;
 * the router needs only the hashes it keys its index by, so the worker computes those ({@link RouterBlockHash}) and
 * drops the tokens before the event leaves the process.
 */
public sealed interface BlockEvent {
    long eventId();

    /** A copy numbered {@code id} (the publisher's wire ids replace the engine's). */
    BlockEvent withId(long id);

    /**
     * Blocks that became reusable: {@code blockHashes} are the engine's names (chained from {@code parentBlockHash},
     * null for a sequence's first block), {@code localHashes} the router's hash of each block's tokens, in order.
     */
    record Stored(long eventId, Long parentBlockHash, long[] blockHashes, long[] localHashes, int blockSize)
            implements BlockEvent {
        @Override public Stored withId(long id) { return new Stored(id, parentBlockHash, blockHashes, localHashes, blockSize); }
    }

    /** Blocks the engine evicted, by its own hashes. */
    record Removed(long eventId, long[] blockHashes) implements BlockEvent {
        @Override public Removed withId(long id) { return new Removed(id, blockHashes); }
    }

    /** The engine dropped its whole prefix cache. */
    record Cleared(long eventId) implements BlockEvent {
        @Override public Cleared withId(long id) { return new Cleared(id); }
    }

    /**
     * The wire form of an engine event: a stored event's tokens become one local hash per full block. Throws
     * IllegalArgumentException if the token count does not match the blocks.
     */
    static BlockEvent fromEngine(KvEvent e) {
        if (e instanceof KvEvent.BlockStored s) {
            int blocks = s.blockHashes().length;
            if (s.blockSize() <= 0 || (long) blocks * s.blockSize() != s.tokenIds().length) {
                throw new IllegalArgumentException("event " + s.eventId() + ": " + blocks + " blocks of " + s.blockSize()
                        + " tokens but " + s.tokenIds().length + " token ids");
            }
            return new Stored(s.eventId(), s.parentBlockHash(), s.blockHashes(),
                    RouterBlockHash.localHashes(s.tokenIds(), s.blockSize(), blocks), s.blockSize());
        } else if (e instanceof KvEvent.BlockRemoved r) {
            return new Removed(r.eventId(), r.blockHashes());
        }
        return new Cleared(e.eventId());
    }
}

package ai.arbor.gpu.kv;

/**
 * One physical block of the paged KV cache as the pool tracks it. The links make the free queue intrusive, so a cached
 * free block that a new request hits leaves the queue in O(1).
 */
public final class KvBlock {
    private final int id;
    int refCount;
    /** Chained hash of the full block this holds; only meaningful while {@link #hashed}. */
    long hash;
    boolean hashed;
    /** The cached block's parent hash (null for a first block) and tokens: what a lower tier needs to re-announce it. */
    Long parentHash;
    int[] tokens;
    KvBlock prevFree;
    KvBlock nextFree;
    boolean inFreeQueue;

    KvBlock(int id) { this.id = id; }

    /** The physical block index the backend's cache uses. */
    public int id() { return id; }

    public int refCount() { return refCount; }

    public boolean isHashed() { return hashed; }

    public long hash() {
        if (!hashed) throw new IllegalStateException("block " + id + " holds no full cached block");
        return hash;
    }

    @Override
    public String toString() {
        return "KvBlock[" + id + ", ref=" + refCount + (hashed ? ", hash=" + Long.toHexString(hash) : "") + "]";
    }
}

package ai.arbor.gpu.kv;

/**
 * Free blocks in eviction order: the head is the least recently freed and is reused first. A doubly linked list
 * through the blocks themselves, because a prefix-cache hit takes a block out of the middle.
 */
final class FreeBlockQueue {
    private KvBlock head;
    private KvBlock tail;
    private int size;

    int size() { return size; }

    void append(KvBlock b) {
        if (b.inFreeQueue) throw new IllegalStateException(b + " is already free");
        b.prevFree = tail;
        b.nextFree = null;
        if (tail == null) head = b; else tail.nextFree = b;
        tail = b;
        b.inFreeQueue = true;
        size++;
    }

    KvBlock popFront() {
        KvBlock b = head;
        if (b == null) throw new IllegalStateException("no free KV blocks");
        remove(b);
        return b;
    }

    void remove(KvBlock b) {
        if (!b.inFreeQueue) throw new IllegalStateException(b + " is not free");
        if (b.prevFree == null) head = b.nextFree; else b.prevFree.nextFree = b.nextFree;
        if (b.nextFree == null) tail = b.prevFree; else b.nextFree.prevFree = b.prevFree;
        b.prevFree = null;
        b.nextFree = null;
        b.inFreeQueue = false;
        size--;
    }
}

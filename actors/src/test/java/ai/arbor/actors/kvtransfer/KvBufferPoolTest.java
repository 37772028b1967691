package ai.arbor.actors.kvtransfer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class KvBufferPoolTest {

    @Test
    void aReleasedBufferServesTheNextTransferOfItsSizeClass() {
        KvBufferPool pool = new KvBufferPool(1 << 20);
        ByteBuffer a = pool.acquire(100 * 1024);
        assertTrue(a.isDirect());
        assertEquals(128 * 1024, a.capacity(), "sizes round up to a power of two");
        assertEquals(0, a.position());
        assertEquals(100 * 1024, a.limit());
        a.position(5000);
        pool.release(a);
        assertEquals(128 * 1024, pool.pooledBytes());
        ByteBuffer b = pool.acquire(70 * 1024);
        assertSame(a, b);
        assertEquals(0, b.position());
        assertEquals(70 * 1024, b.limit());
        assertEquals(0, pool.pooledBytes());
        assertNotSame(b, pool.acquire(70 * 1024), "a buffer in use is never handed out twice");
    }

    @Test
    void thePoolKeepsNoMoreThanItsBoundIdle() {
        KvBufferPool pool = new KvBufferPool(128 * 1024);
        ByteBuffer a = pool.acquire(128 * 1024);
        ByteBuffer b = pool.acquire(128 * 1024);
        pool.release(a);
        pool.release(b);
        assertEquals(128 * 1024, pool.pooledBytes(), "the second buffer was left to the GC");
        pool.release(ByteBuffer.allocate(128 * 1024));
        pool.release(ByteBuffer.allocateDirect(100_000));
        assertEquals(128 * 1024, pool.pooledBytes(), "heap and odd-sized buffers are never kept");
        assertEquals(0, pool.acquire(0).capacity());
    }
}

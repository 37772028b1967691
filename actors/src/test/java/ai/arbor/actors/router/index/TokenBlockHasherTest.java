package ai.arbor.actors.router.index;

import com.dynatrace.hash4j.hashing.Hashing;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

class TokenBlockHasherTest {
    private static long xxh3(byte[] bytes) {
        return Hashing.xxh3_64(1337).hashBytesToLong(bytes);
    }

    private static int[] tokens(int n, int start) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = start + i * 7919;
        return t;
    }

    @Test
    void onlyFullBlocksAreHashed() {
        TokenBlockHasher h = new TokenBlockHasher(16);
        assertEquals(2, h.localHashes(tokens(33, 5)).length);
        assertEquals(0, h.localHashes(tokens(15, 5)).length);
        assertEquals(1, h.localHashes(tokens(16, 5)).length);
    }

    @Test
    void localHashIsXxh3OfLittleEndianU32TokenIds() {
        int[] t = {1, 2, 70000, -1, 151643, 0, 9, 128000};
        ByteBuffer b = ByteBuffer.allocate(t.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : t) b.putInt(x);
        long[] local = new TokenBlockHasher(8).localHashes(t);
        assertEquals(xxh3(b.array()), local[0]);
    }

    @Test
    void sequenceHashChainsParentAndLocalAsLittleEndianBytes() {
        long parent = 0x0123456789ABCDEFL;
        long local = -42L;
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(parent).putLong(local);
        assertEquals(xxh3(b.array()), TokenBlockHasher.chain(parent, local));

        long[] locals = {11, 22, 33};
        long[] seq = TokenBlockHasher.sequenceHashes(locals);
        assertEquals(11, seq[0]);
        assertEquals(TokenBlockHasher.chain(11, 22), seq[1]);
        assertEquals(TokenBlockHasher.chain(seq[1], 33), seq[2]);
    }

    @Test
    void sameBlockAtDifferentPositionsHasSameLocalButDifferentSequenceHash() {
        int[] block = tokens(4, 100);
        int[] other = tokens(4, 900);
        int[] seqA = concat(block, other);
        int[] seqB = concat(other, block);
        TokenBlockHasher h = new TokenBlockHasher(4);
        long[] a = h.localHashes(seqA);
        long[] b = h.localHashes(seqB);
        assertEquals(a[0], b[1]);
        assertNotEquals(TokenBlockHasher.sequenceHashes(a)[0], TokenBlockHasher.sequenceHashes(b)[1]);
        assertNotEquals(a[0], a[1]);
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TokenBlockHasher(0));
        assertTrue(e.getMessage().contains("block size"));
        assertThrows(IllegalArgumentException.class, () -> new TokenBlockHasher(4).localHashes(new int[7], 2));
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

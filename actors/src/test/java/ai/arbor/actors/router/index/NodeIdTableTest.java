package ai.arbor.actors.router.index;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class NodeIdTableTest {
    record Key(long key, int owner) {}

    /** Churn over a small key space (so removals hit and probe chains collide and wrap) against a HashMap model. */
    @Test
    void behavesLikeHashMapUnderChurn() {
        Random rnd = new Random(7);
        NodeIdTable table = new NodeIdTable();
        Map<Key, Integer> model = new HashMap<>();
        for (int i = 0; i < 300_000; i++) {
            // key 0, negative keys, and the same key under several owners
            Key k = new Key(rnd.nextInt(3000) - 1500, rnd.nextInt(4));
            int op = rnd.nextInt(3);
            if (op == 0) {
                assertEquals(orZero(model.remove(k)), table.remove(k.key(), k.owner()), "remove " + k);
            } else {
                int id = 1 + rnd.nextInt(Integer.MAX_VALUE - 1);
                assertEquals(orZero(model.put(k, id)), table.put(k.key(), k.owner(), id), "put " + k);
            }
            if (i % 20_000 == 0) assertSameContent(model, table);
        }
        assertSameContent(model, table);
        table.clear();
        assertEquals(0, table.size());
        assertEquals(0, table.get(0, 0));
    }

    /** A table kept at its smallest size, so probe chains collide and wrap: backward shifts keep them all reachable. */
    @Test
    void removalsInACrowdedSmallTableKeepTheRestReachable() {
        NodeIdTable table = new NodeIdTable(16);
        Map<Key, Integer> model = new HashMap<>();
        Random rnd = new Random(1);
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 9; i++) {
                Key k = new Key(rnd.nextInt(40) * 1024L, 0);
                model.put(k, round * 10 + i + 1);
                table.put(k.key(), 0, round * 10 + i + 1);
            }
            for (int i = 0; i < 6; i++) {
                Key k = new Key(rnd.nextInt(40) * 1024L, 0);
                assertEquals(orZero(model.remove(k)), table.remove(k.key(), 0));
            }
            assertSameContent(model, table);
        }
    }

    @Test
    void idsMustBePositive() {
        NodeIdTable table = new NodeIdTable();
        assertThrows(IllegalArgumentException.class, () -> table.put(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> table.put(1, 0, -3));
    }

    private static int orZero(Integer id) { return id == null ? 0 : id; }

    private static void assertSameContent(Map<Key, Integer> model, NodeIdTable table) {
        assertEquals(model.size(), table.size());
        for (var e : model.entrySet()) assertEquals(e.getValue(), table.get(e.getKey().key(), e.getKey().owner()), "get " + e.getKey());
        for (int owner = 0; owner < 4; owner++) {
            for (long key = -1500; key < 1500; key += 37) {
                assertEquals(orZero(model.get(new Key(key, owner))), table.get(key, owner));
            }
        }
        Map<Key, Integer> seen = new HashMap<>();
        table.forEach((key, owner, id) -> assertNull(seen.put(new Key(key, owner), id), "visited twice"));
        assertEquals(model, seen);
    }
}

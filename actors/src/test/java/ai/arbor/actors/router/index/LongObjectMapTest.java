package ai.arbor.actors.router.index;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class LongObjectMapTest {
    @Test
    void behavesLikeHashMapUnderRandomPutsAndRemoves() {
        Random rnd = new Random(7);
        LongObjectMap<String> map = new LongObjectMap<>();
        Map<Long, String> ref = new HashMap<>();
        for (int i = 0; i < 200_000; i++) {
            // small key range so removals hit, plus key 0 and negative keys
            long key = rnd.nextInt(5000) - 2500;
            if (rnd.nextInt(3) == 0) {
                assertEquals(ref.remove(key), map.remove(key), "remove " + key);
            } else {
                String v = "v" + i;
                assertEquals(ref.put(key, v), map.put(key, v), "put " + key);
            }
            if (i % 10_000 == 0) {
                assertEquals(ref.size(), map.size());
                for (long k = -2500; k < 2500; k++) assertEquals(ref.get(k), map.get(k), "get " + k);
            }
        }
        Map<Long, String> seen = new HashMap<>();
        map.forEach(seen::put);
        assertEquals(ref, seen);
        map.clear();
        assertEquals(0, map.size());
        assertNull(map.get(0));
    }
}

package ai.arbor.gpu.sample;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PhiloxTest {

    @Test
    void matchesRandom123sKnownAnswers() {
        // Random123's kat_vectors, philox4x32_10: counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8
        assertEquals(0x6627e8d5e169c58dL, Philox.bits(0, 0));
    }

    @Test
    void drawsDependOnSeedAndStepOnlyAndFillTheUnitInterval() {
        assertEquals(Philox.uniform(42, 7), Philox.uniform(42, 7));
        Set<Long> seen = new HashSet<>();
        double sum = 0;
        int n = 20_000;
        for (int step = 0; step < n; step++) {
            double u = Philox.uniform(42, step);
            assertTrue(u >= 0 && u < 1, "u = " + u);
            sum += u;
            seen.add(Philox.bits(42, step));
        }
        assertEquals(n, seen.size(), "no repeats along one stream");
        assertEquals(0.5, sum / n, 0.01);
        assertNotEquals(Philox.bits(42, 0), Philox.bits(43, 0));
        assertNotEquals(Philox.bits(1L << 32, 0), Philox.bits(0, 0), "the seed's high word is part of the key");
    }
}

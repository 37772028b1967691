package ai.arbor.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RouterSettingsTest {
    @Test
    void kvKnobsHaveDefaultsAndComeFromEnvironmentAndOverrides() {
        RouterSettings d = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of())).router();
        assertEquals(2.0, d.overlapWeight());
        assertEquals(0.0, d.temperature());
        assertFalse(d.resetStates());
        assertEquals(Duration.ofSeconds(30), d.snapshotInterval());
        assertEquals(Duration.ofSeconds(1), d.loadSyncInterval());

        RouterSettings r = ArborSettings.from(ArborConfig.load(Map.of("arbor.router.mode", "KV", "arbor.router.temperature", 0.5),
                null, Map.of("ARBOR_ROUTER_RESET_STATES", "true", "ARBOR_ROUTER_OVERLAP_WEIGHT", "1.5"))).router();
        assertEquals("kv", r.mode());
        assertEquals(0.5, r.temperature());
        assertEquals(1.5, r.overlapWeight());
        assertTrue(r.resetStates());
    }

    @Test
    void badKnobsNameTheSetting() {
        var e = assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(ArborConfig.load(
                Map.of("arbor.router.overlap-weight", -1), null, Map.of())));
        assertTrue(e.getMessage().contains("arbor.router.overlap-weight"), e.getMessage());
    }
}

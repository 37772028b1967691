package ai.arbor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --device} as a list of devices, one worker on each, and the lists it refuses. */
class DevicesTest {

    private static ArborSettings settings(Map<String, Object> flags) {
        return ArborSettings.from(ArborConfig.load(flags, null, Map.of()));
    }

    private static String refused(Map<String, Object> flags) {
        return assertThrows(IllegalArgumentException.class, () -> settings(flags)).getMessage();
    }

    @Test
    void aListOfCudaDevicesRunsOneWorkerOnEach() {
        ArborSettings s = settings(Map.of("arbor.device", " CUDA:0, cuda:1,cuda:3 "));
        assertEquals("cuda:0,cuda:1,cuda:3", s.device());
        assertEquals(List.of(0, 1, 3), s.devices().cudaIndices());
        assertTrue(s.isCuda());
        assertEquals(3, s.engine().workers(), "no --workers: one per device");
        assertEquals(3, settings(Map.of("arbor.device", "cuda:0,cuda:1,cuda:3", "arbor.engine.workers", 3))
                .engine().workers(), "the list's own length is accepted");
        assertEquals(256, s.engine().maxNumSeqs(), "each engine keeps the per-device CUDA batching defaults");
        assertEquals(2048, s.engine().maxNumBatchedTokens());
    }

    @Test
    void theEnvironmentTakesAListToo() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_DEVICE", "cuda:0,cuda:1")));
        assertEquals(List.of("cuda:0", "cuda:1"), s.devices().names());
        assertEquals(2, s.engine().workers());
    }

    @Test
    void oneDeviceBehavesAsBefore() {
        for (String d : new String[] {"cpu", "cuda", "cuda:2", "synthetic"}) {
            ArborSettings s = settings(Map.of("arbor.device", d));
            assertEquals(d, s.device());
            assertEquals(1, s.devices().size());
            assertEquals(1, s.engine().workers(), d);
        }
        assertEquals(List.of(0), settings(Map.of("arbor.device", "cuda")).devices().cudaIndices());
        assertEquals(List.of(2), settings(Map.of("arbor.device", "cuda:2")).devices().cudaIndices());
        assertEquals(List.of(), settings(Map.of("arbor.device", "cpu")).devices().cudaIndices());
        assertEquals(3, settings(Map.of("arbor.device", "cpu", "arbor.engine.workers", 3)).engine().workers(),
                "several CPU engines on one device, as before");
        assertFalse(settings(Map.of("arbor.device", "synthetic")).isCuda());
    }

    @Test
    void aListOfSyntheticDevicesStandsInForGpus() {
        ArborSettings s = settings(Map.of("arbor.device", "synthetic,synthetic"));
        assertTrue(s.isSynthetic());
        assertFalse(s.isCuda());
        assertEquals(2, s.engine().workers());
    }

    @Test
    void theSameGpuTwiceIsRefused() {
        assertEquals("arbor.device 'cuda:0,cuda:0' names cuda:0 twice: one CUDA device holds one engine",
                refused(Map.of("arbor.device", "cuda:0,cuda:0")));
        assertTrue(refused(Map.of("arbor.device", "cuda,cuda:0")).contains("names cuda:0 twice"), "cuda is cuda:0");
    }

    @Test
    void mixedKindsAreRefused() {
        assertEquals("arbor.device 'cpu,cuda:0' mixes cpu and cuda: a list names devices of one kind",
                refused(Map.of("arbor.device", "cpu,cuda:0")));
        assertTrue(refused(Map.of("arbor.device", "cuda:0,synthetic")).contains("mixes cuda and synthetic"));
    }

    @Test
    void aListOfCpusPointsAtWorkers() {
        assertTrue(refused(Map.of("arbor.device", "cpu,cpu")).contains("--device cpu with --workers N"));
    }

    @Test
    void malformedListsAreRefused() {
        for (String bad : new String[] {"cuda:0,", ",cuda:0", "cuda:0,,cuda:1", "cuda:0;cuda:1", "cuda:0,tpu",
                "cuda:all"}) {
            String e = refused(Map.of("arbor.device", bad));
            assertTrue(e.startsWith("arbor.device must be cpu, cuda, cuda:N or synthetic, or a list of CUDA devices"), e);
            assertTrue(e.contains("'" + bad + "'"), e);
        }
    }

    @Test
    void workersOfAnotherLengthThanTheListAreRefused() {
        assertEquals("arbor.engine.workers (--workers) is 3 but arbor.device lists 2 devices (cuda:0,cuda:1): one "
                        + "worker runs on each; leave --workers out",
                refused(Map.of("arbor.device", "cuda:0,cuda:1", "arbor.engine.workers", 3)));
        assertTrue(refused(Map.of("arbor.device", "cuda:0,cuda:1", "arbor.engine.workers", 1))
                .contains("lists 2 devices"), "an explicit 1 is another length too");
        assertTrue(refused(Map.of("arbor.device", "synthetic,synthetic", "arbor.engine.workers", 4))
                .contains("lists 2 devices"));
    }

    @Test
    void severalWorkersOnOneGpuAreRefused() {
        String e = refused(Map.of("arbor.device", "cuda:1", "arbor.engine.workers", 2));
        assertTrue(e.contains("one CUDA device holds one engine") && e.contains("--device cuda:0,cuda:1"), e);
    }
}

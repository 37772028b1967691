package ai.arbor.cluster.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.Devices;
import org.junit.jupiter.api.Test;

/** The start-up check of listed GPUs against those the driver sees, with the driver's answers given. */
class CudaPresenceTest {

    @Test
    void anIndexBeyondTheDevicesPresentIsNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> LoadedModel.checkPresent(Devices.parse("arbor.device", "cuda:0,cuda:2"), true, 2));
        assertEquals("--device cuda:0,cuda:2: cuda:2 does not exist, this machine has 2 CUDA device(s) (cuda:0 to "
                + "cuda:1)", e.getMessage());
    }

    @Test
    void noDriverIsOneLine() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> LoadedModel.checkPresent(Devices.parse("arbor.device", "cuda:0,cuda:1"), false, 0));
        assertTrue(e.getMessage().startsWith("--device cuda:0,cuda:1: no CUDA device found ("), e.getMessage());
    }

    @Test
    void devicesThatArePresentPass() {
        LoadedModel.checkPresent(Devices.parse("arbor.device", "cuda:1,cuda:0"), true, 2);
        LoadedModel.checkPresent(Devices.parse("arbor.device", "cuda"), true, 1);
        var e = assertThrows(IllegalArgumentException.class,
                () -> LoadedModel.checkPresent(Devices.parse("arbor.device", "cuda:1"), true, 1));
        assertTrue(e.getMessage().contains("cuda:1 does not exist"), e.getMessage());
    }
}

package ai.arbor.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.arbor.config.KvSharingSettings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a node's workers (one per listed GPU) are told apart: their names and their KV transfer ports. */
class NodeWorkersTest {

    @Test
    void theOnlyWorkerKeepsTheNodesAddressAndSeveralAreNumbered() {
        assertEquals(List.of("10.0.0.5:25520"), ArborNode.workerNames("10.0.0.5:25520", 1));
        assertEquals(List.of("10.0.0.5:25520#0", "10.0.0.5:25520#1", "10.0.0.5:25520#2"),
                ArborNode.workerNames("10.0.0.5:25520", 3));
    }

    @Test
    void aFixedTransferPortMovesUpPerWorkerAndAnyPortStaysAny() {
        KvSharingSettings d = KvSharingSettings.defaults();
        assertEquals(0, d.transferPort());
        assertEquals(0, d.forWorker(3).transferPort());
        KvSharingSettings fixed = withPorts(d, 7400, 0);
        assertEquals(7400, fixed.forWorker(0).transferPort());
        assertEquals(7401, fixed.forWorker(1).transferPort());
        assertEquals(7403, fixed.forWorker(3).transferPort());
        assertEquals(7401, fixed.forWorker(1).advertisedPort(7401), "no advertised port: peers dial the listener's");
    }

    @Test
    void anAdvertisedTransferPortMovesUpPerWorkerAndIsWhatPeersDial() {
        KvSharingSettings mapped = withPorts(KvSharingSettings.defaults(), 7400, 31000);
        assertEquals(31000, mapped.forWorker(0).advertisedPort(7400));
        assertEquals(31002, mapped.forWorker(2).advertisedPort(7402));
        // behind a proxy the listener may take any port; peers still dial the advertised one
        KvSharingSettings anyPort = withPorts(KvSharingSettings.defaults(), 0, 31000);
        assertEquals(0, anyPort.forWorker(1).transferPort());
        assertEquals(31001, anyPort.forWorker(1).advertisedPort(45678));
    }

    private static KvSharingSettings withPorts(KvSharingSettings d, int port, int advertised) {
        return new KvSharingSettings(d.workerMode(), port, advertised, d.transferTimeout(), d.disaggMinPrefillTokens(),
                d.peerPullMinBlocks(), d.idleConnectionsPerPeer(), d.connectionIdleTimeout(), d.bufferPoolBytes());
    }
}

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
        KvSharingSettings fixed = new KvSharingSettings(d.workerMode(), 7400, d.transferTimeout(),
                d.disaggMinPrefillTokens(), d.peerPullMinBlocks(), d.idleConnectionsPerPeer(),
                d.connectionIdleTimeout(), d.bufferPoolBytes());
        assertEquals(7400, fixed.forWorker(0).transferPort());
        assertEquals(7401, fixed.forWorker(1).transferPort());
        assertEquals(7403, fixed.forWorker(3).transferPort());
    }
}

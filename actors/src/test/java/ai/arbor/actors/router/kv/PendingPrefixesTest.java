package ai.arbor.actors.router.kv;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class PendingPrefixesTest {
    final AtomicLong now = new AtomicLong();
    final PendingPrefixes pending = new PendingPrefixes(1_000, now::get);

    @Test
    void aRoutedRequestsBlocksCountOnItsWorkerAsLongAsItRunsPlusTheGrace() {
        pending.routed("a", 7, new long[]{1, 2, 3, 4});
        assertEquals(Map.of(7L, 4), pending.depths(new long[]{1, 2, 3, 4, 5}));
        assertEquals(Map.of(7L, 2), pending.depths(new long[]{1, 2, 9, 4}), "a different third block ends the match");

        pending.released("a");
        now.addAndGet(999);
        assertEquals(Map.of(7L, 4), pending.depths(new long[]{1, 2, 3, 4}), "still within the grace period");
        now.addAndGet(1);
        assertEquals(Map.of(), pending.depths(new long[]{1, 2, 3, 4}));
        assertEquals(0, pending.blocks());
    }

    @Test
    void requestsSharingAPrefixKeepItWhileAnyOfThemRunsAndEachWorkerHasItsOwnDepth() {
        pending.routed("a", 7, new long[]{1, 2, 3});
        pending.routed("b", 7, new long[]{1, 2, 8});
        pending.routed("c", 9, new long[]{1});
        assertEquals(Map.of(7L, 3, 9L, 1), pending.depths(new long[]{1, 2, 3}));
        assertEquals(4, pending.blocks());

        pending.released("a");
        now.addAndGet(5_000);
        assertEquals(Map.of(7L, 2, 9L, 1), pending.depths(new long[]{1, 2, 3}), "b still holds the shared blocks");
        assertEquals(2, pending.running());

        pending.removeWorker(7);
        assertEquals(Map.of(9L, 1), pending.depths(new long[]{1, 2, 8}));
        pending.released("c");
        now.addAndGet(5_000);
        pending.released("b"); // already gone with its worker: nothing happens
        assertEquals(0, pending.blocks());
        assertEquals(0, pending.running());
    }

    @Test
    void routingARequestAgainReplacesItsEarlierBlocks() {
        pending.routed("a", 7, new long[]{1, 2});
        pending.routed("a", 9, new long[]{1, 2});
        assertEquals(Map.of(9L, 2), pending.depths(new long[]{1, 2}));
    }
}

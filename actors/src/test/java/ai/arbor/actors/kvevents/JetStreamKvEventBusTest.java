package ai.arbor.actors.kvevents;

import ai.arbor.actors.router.index.RadixIndex;
import ai.arbor.actors.router.kv.KvIndexer;
import ai.arbor.actors.router.nats.JetStreamSnapshotStore;
import ai.arbor.actors.router.snapshot.IndexSnapshot;
import ai.arbor.gpu.protocol.KvEvent;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Against a real {@code nats-server -js} child process. */
class JetStreamKvEventBusTest {
    static final int BS = 4;
    static NatsServer nats;
    static Connection nc;

    @BeforeAll
    static void startNats() throws Exception {
        assumeTrue(NatsServer.available(), "nats-server not on PATH (Debian package nats-server)");
        nats = NatsServer.start();
        nc = connect();
    }

    static Connection connect() throws Exception {
        return Nats.connect(Options.builder().server(nats.url()).maxReconnects(-1)
                .reconnectWait(Duration.ofMillis(100)).connectionTimeout(Duration.ofSeconds(2)).build());
    }

    @AfterAll
    static void stopNats() throws Exception {
        if (nc != null) nc.close();
        if (nats != null) nats.close();
    }

    static JetStreamKvEventBus bus(String stream) {
        var d = JetStreamKvEventBus.Settings.defaults();
        return new JetStreamKvEventBus(nc, new JetStreamKvEventBus.Settings(stream, Duration.ofMinutes(10), 64L << 20,
                d.bufferCapacity(), 64, Duration.ofSeconds(1)));
    }

    static void await(String what, BooleanSupplier cond, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) fail("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    static long lastSequence(String stream) {
        try {
            return nc.jetStreamManagement().getStreamInfo(stream).getStreamState().getLastSequence();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Two workers publishing random engine events; the reference index gets each event directly. */
    static final class Cluster {
        final KvEventPublisher[] publishers;
        final EngineEvents[] engines;
        final RadixIndex reference = new RadixIndex(BS);

        Cluster(KvEventBus bus, String model, int workers) {
            publishers = new KvEventPublisher[workers];
            engines = new EngineEvents[workers];
            for (int w = 0; w < workers; w++) {
                publishers[w] = bus.publisher(model, 100 + w);
                engines[w] = new EngineEvents(BS, 7919L * (w + 1), w);
            }
        }

        void run(int steps) {
            for (int i = 0; i < steps; i++) {
                int w = i % publishers.length;
                KvEvent e = engines[w].next();
                reference.apply(100 + w, BlockEvent.fromEngine(e));
                publishers[w].onKvEvents(List.of(e));
            }
        }

        void flush() throws InterruptedException {
            for (KvEventPublisher p : publishers) assertTrue(p.flush(20_000), "publisher flushed");
        }
    }

    @Test
    void streamIsFileBackedBoundedAndUpdatedAtStartUp() throws Exception {
        try (JetStreamKvEventBus b = bus("KV_LIMITS")) {
            StreamInfo info = nc.jetStreamManagement().getStreamInfo("KV_LIMITS");
            assertEquals(StorageType.File, info.getConfiguration().getStorageType());
            assertEquals(Duration.ofMinutes(10), info.getConfiguration().getMaxAge());
            assertEquals(64L << 20, info.getConfiguration().getMaxBytes());
            assertEquals(List.of("arbor.kv.>"), info.getConfiguration().getSubjects());
        }
        var d = JetStreamKvEventBus.Settings.defaults();
        try (JetStreamKvEventBus b = new JetStreamKvEventBus(nc, new JetStreamKvEventBus.Settings("KV_LIMITS",
                Duration.ofMinutes(5), 32L << 20, d.bufferCapacity(), 64, Duration.ofSeconds(1)))) {
            StreamInfo info = nc.jetStreamManagement().getStreamInfo("KV_LIMITS");
            assertEquals(Duration.ofMinutes(5), info.getConfiguration().getMaxAge());
            assertEquals(32L << 20, info.getConfiguration().getMaxBytes());
        }
        nc.jetStreamManagement().deleteStream("KV_LIMITS");
    }

    @Test
    void routerIndexFollowsTheWorkersAndDetectsGaps() throws Exception {
        try (JetStreamKvEventBus bus = bus("KV_FOLLOW"); KvIndexer indexer = new KvIndexer("m/one", BS).consume(bus)) {
            Cluster c = new Cluster(bus, "m/one", 3);
            c.run(600);
            c.flush();
            await("indexer caught up", () -> indexer.lastSequence() >= lastSequence("KV_FOLLOW"), 20_000);
            assertEquals(c.reference.content(), indexer.content());
            assertEquals(600, indexer.stats().eventsApplied());
            int[] prompt = EngineEvents.prompt(2, 3, 4, 2, BS);
            assertEquals(c.reference.findMatchesForTokens(prompt), indexer.findMatches(prompt));
            assertTrue(bus.healthy());

        } finally {
            nc.jetStreamManagement().deleteStream("KV_FOLLOW");
        }
    }

    @Test
    void aGapInTheStreamMakesTheRouterAskTheWorkerToResync() throws Exception {
        try (JetStreamKvEventBus bus = bus("KV_GAP")) {
            Cluster c = new Cluster(bus, "m", 2);
            c.run(200);
            c.flush();
            // an event batch vanishes from the stream (as if trimmed) before this router reads it
            assertTrue(nc.jetStreamManagement().deleteMessage("KV_GAP", messageWithALaterOneOfItsWorker("KV_GAP")));
            try (KvIndexer indexer = new KvIndexer("m", BS).consume(bus)) {
                await("gap noticed and resync asked", () -> indexer.stats().resyncRequests() >= 1, 10_000);
                await("resync arrived", () -> java.util.Arrays.stream(c.publishers).mapToLong(KvEventPublisher::resyncs).sum() >= 1, 10_000);
                c.flush();
                await("caught up", () -> indexer.lastSequence() >= lastSequence("KV_GAP"), 10_000);
                assertTrue(indexer.stats().gaps() >= 1);
                RadixIndex rebuilt = RadixIndex.restore(indexer.snapshot().index());
                for (int w = 0; w < 2; w++) c.engines[w].assertSameMatches(c.reference, rebuilt, 100 + w);
            }
        } finally {
            nc.jetStreamManagement().deleteStream("KV_GAP");
        }
    }

    /**
     * The first message whose worker (its subject) publishes again after it: only a later batch of the same worker
     * shows the gap (how the publisher batches events depends on timing, so a fixed position may be a worker's last).
     */
    private long messageWithALaterOneOfItsWorker(String stream) throws Exception {
        long last = lastSequence(stream);
        java.util.List<String> subjects = new java.util.ArrayList<>();
        for (long seq = 1; seq <= last; seq++) subjects.add(nc.jetStreamManagement().getMessage(stream, seq).getSubject());
        for (int i = 0; i < subjects.size(); i++) {
            if (subjects.subList(i + 1, subjects.size()).contains(subjects.get(i))) return i + 1;
        }
        throw new AssertionError("no worker published twice: " + subjects);
    }

    @Test
    void aRestartedRouterRebuildsTheSameIndexFromSnapshotPlusStream() throws Exception {
        JetStreamSnapshotStore store = new JetStreamSnapshotStore(nc, "arbor-test-snapshots");
        try (JetStreamKvEventBus bus = bus("KV_RESTART"); KvIndexer always = new KvIndexer("m", BS).consume(bus)) {
            Cluster c = new Cluster(bus, "m", 4);
            KvIndexer restarting = new KvIndexer("m", BS).consume(bus);
            c.run(800);
            c.flush();
            await("caught up", () -> restarting.lastSequence() >= lastSequence("KV_RESTART"), 20_000);
            store.save("m", restarting.snapshot());
            restarting.close();

            c.run(800); // traffic while that router is down
            c.flush();
            IndexSnapshot snap = store.load("m").orElseThrow();
            KvIndexer restarted = KvIndexer.fromSnapshot("m", snap).consume(bus);
            long last = lastSequence("KV_RESTART");
            await("restarted caught up", () -> restarted.lastSequence() >= last && always.lastSequence() >= last, 20_000);
            assertEquals(always.content(), restarted.content());
            assertEquals(c.reference.content(), restarted.content());
            assertTrue(restarted.stats().eventsApplied() < always.stats().eventsApplied(), "replayed only the tail");
            restarted.close();

            // --router-reset-states: both the stream's events and the snapshot go
            bus.purge("m");
            store.delete("m");
            assertTrue(store.load("m").isEmpty());
            try (KvIndexer fresh = new KvIndexer("m", BS).consume(bus)) {
                Thread.sleep(300);
                assertEquals(0, fresh.stats().eventsApplied());
            }
        } finally {
            nc.jetStreamManagement().deleteStream("KV_RESTART");
        }
    }

    @Test
    void clusterRouterReplicaRestartsWarmFromTheObjectStoreSnapshot() throws Exception {
        ai.arbor.config.RouterSettings router = new ai.arbor.config.RouterSettings("kv");
        try (JetStreamKvEventBus bus = bus("KV_WARM")) {
            Cluster c = new Cluster(bus, "warm", 2);
            c.run(300);
            c.flush();
            long last = lastSequence("KV_WARM");
            try (var first = ai.arbor.actors.router.KvWiring.jetStreamRouting(nc, bus, "warm", router, BS)) {
                await("first replica caught up", () -> first.indexer().lastSequence() >= last, 20_000);
                assertTrue(first.snapshotIfDue(1));
            }
            try (var second = ai.arbor.actors.router.KvWiring.jetStreamRouting(nc, bus, "warm", router, BS)) {
                // warm before any new event: everything came from the snapshot, nothing was replayed
                assertEquals(last, second.indexer().lastSequence());
                assertEquals(0, second.indexer().stats().eventsApplied());
                assertEquals(c.reference.content(), second.indexer().content());
            }
        } finally {
            nc.jetStreamManagement().deleteStream("KV_WARM");
        }
    }

    @Test
    void natsKilledAndRestartedLosesNoEventsAndHealthFollows() throws Exception {
        try (JetStreamKvEventBus bus = bus("KV_OUTAGE"); KvIndexer indexer = new KvIndexer("m", BS).consume(bus)) {
            Cluster c = new Cluster(bus, "m", 2);
            c.run(300);
            c.flush();
            nats.kill();
            await("connection down", () -> !bus.healthy(), 10_000);
            c.run(300); // engines keep stepping; events wait in the publishers
            nats.restart();
            await("connection back", bus::healthy, 20_000);
            c.flush();
            await("indexer caught up after the outage", () -> indexer.stats().eventsApplied() >= 600, 30_000);
            assertEquals(c.reference.content(), indexer.content());
            for (KvEventPublisher p : c.publishers) assertEquals(0, p.dropped());
            assertEquals(0, indexer.stats().gaps());
        } finally {
            nc.jetStreamManagement().deleteStream("KV_OUTAGE");
        }
    }
    @Test
    void noMessageOnTheBusOrInTheStreamCarriesTokenIds() throws Exception {
        // a "secret" prompt of distinctive token ids; an eavesdropper on arbor.kv.> and the stream itself must not see
        // any two of them in a row, in either byte order
        int[] secret = new int[6 * BS];
        for (int i = 0; i < secret.length; i++) secret[i] = 151_000 + 7 * i;
        List<byte[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.nats.client.Dispatcher eavesdropper = nc.createDispatcher(m -> seen.add(m.getData()));
        eavesdropper.subscribe("arbor.kv.>");
        try (JetStreamKvEventBus bus = bus("KV_PRIVATE"); KvIndexer indexer = new KvIndexer("private", BS).consume(bus)) {
            KvEventPublisher worker = bus.publisher("private", 42);
            worker.onKvEvents(List.of(new KvEvent.BlockStored(0, null, new long[]{1, 2, 3}, java.util.Arrays.copyOf(secret, 3 * BS), BS),
                    new KvEvent.BlockStored(1, 3L, new long[]{4, 5, 6}, java.util.Arrays.copyOfRange(secret, 3 * BS, 6 * BS), BS)));
            assertTrue(worker.flush(20_000));
            worker.requestResync(); // the resync path re-describes the cache from the worker's mirror
            assertTrue(worker.flush(20_000));
            long last = lastSequence("KV_PRIVATE");
            await("indexer caught up", () -> indexer.lastSequence() >= last, 20_000);
            await("eavesdropper got every message", () -> seen.size() >= last, 20_000);
            // the router still finds the whole prompt: hashes are all it needs
            assertEquals(6, indexer.findMatches(secret).depth(42));

            List<byte[]> stored = new java.util.ArrayList<>();
            var js = nc.jetStream();
            var sub = js.subscribe("arbor.kv.>", io.nats.client.PullSubscribeOptions.builder().stream("KV_PRIVATE").build());
            while (stored.size() < last) {
                List<io.nats.client.Message> msgs = sub.fetch((int) (last - stored.size()), Duration.ofSeconds(5));
                if (msgs.isEmpty()) break;
                for (io.nats.client.Message m : msgs) stored.add(m.getData());
            }
            assertEquals(last, stored.size(), "read the whole stream back");
            for (List<byte[]> messages : List.of(seen, stored)) {
                int storedEvents = 0;
                for (byte[] data : messages) {
                    assertNoTokenPairIn(data, secret);
                    for (BlockEvent e : KvEventCodec.decode(data).events()) if (e instanceof BlockEvent.Stored) storedEvents++;
                }
                assertTrue(storedEvents >= 2 + 6, "the two stores and the resync's six went by: " + storedEvents);
            }
        } finally {
            eavesdropper.unsubscribe("arbor.kv.>");
            nc.closeDispatcher(eavesdropper);
            nc.jetStreamManagement().deleteStream("KV_PRIVATE");
        }
    }

    private static void assertNoTokenPairIn(byte[] data, int[] tokens) {
        for (java.nio.ByteOrder order : List.of(java.nio.ByteOrder.BIG_ENDIAN, java.nio.ByteOrder.LITTLE_ENDIAN)) {
            for (int i = 0; i + 1 < tokens.length; i++) {
                byte[] pair = java.nio.ByteBuffer.allocate(8).order(order).putInt(tokens[i]).putInt(tokens[i + 1]).array();
                for (int at = 0; at + pair.length <= data.length; at++) {
                    assertFalse(java.util.Arrays.equals(data, at, at + 8, pair, 0, 8),
                            "token ids " + tokens[i] + ", " + tokens[i + 1] + " (" + order + ") at byte " + at);
                }
            }
        }
    }
}

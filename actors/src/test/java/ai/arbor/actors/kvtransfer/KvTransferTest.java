package ai.arbor.actors.kvtransfer;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.EngineLoop;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.kv.KvBlockBatch;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.SamplingParams;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The KV block data plane between real engines (tiny-qwen2, CPU backend) over real TCP: a pulled prefix is a prefix
 * hit that gives the same greedy tokens as computing it, a push lands in the peer's cache, and a peer that dies
 * mid-stream or never answers fails the transfer cleanly, leaving the receiver's cache untouched.
 */
class KvTransferTest {
    static final int BS = 16;
    static HfModel model;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void load() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models/tiny-qwen2"))) dir = dir.getParent();
        assumeTrue(dir != null, "models/tiny-qwen2 not found");
        model = HfModel.load(dir.resolve("models/tiny-qwen2"));
    }

    @AfterAll
    static void unload() {
        if (model != null) model.close();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private record Node(LLMEngine engine, EngineLoop loop) {}

    private Node node(String name) {
        EngineConfig config = new EngineConfig(BS, 64, 4, 512, 0, true, 0);
        LLMEngine engine = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 16L << 20), config);
        EngineLoop loop = new EngineLoop(engine, "engine-" + name);
        loop.start();
        open.add(engine);
        open.add(loop);
        return new Node(engine, loop);
    }

    private KvTransferServer serve(Node n) throws IOException {
        return serve(n, KvSharingSettings.defaults());
    }

    private KvTransferServer serve(Node n, KvSharingSettings settings) throws IOException {
        KvTransferServer s = new KvTransferServer(n.engine(), n.loop()::wakeup, new KvTransferMetrics("test"),
                new KvBufferPool(64L << 20), settings, KvTransport.plain(), "127.0.0.1", 0);
        open.add(s);
        return s;
    }

    private KvTransferClient client() {
        KvTransferClient c = new KvTransferClient(new KvTransferMetrics("test"), new KvBufferPool(64L << 20),
                KvSharingSettings.defaults(), KvTransport.plain());
        open.add(c);
        return c;
    }

    private static RequestOutput generate(Node n, String id, int[] prompt, List<Integer> tokens) throws Exception {
        CompletableFuture<RequestOutput> done = new CompletableFuture<>();
        n.engine().addRequest(new EngineRequest(id, prompt, SamplingParams.greedy(8)), out -> {
            for (int t : out.newTokenIds()) tokens.add(t);
            if (out.finished()) done.complete(out);
        });
        n.loop().wakeup();
        return done.get(60, TimeUnit.SECONDS);
    }

    private static int[] prompt(long seed, int n) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 1 + r.nextInt(model.config().vocabSize() - 1);
        return t;
    }

    private KvPrefixPull puller(Node n) { return puller(n, client()); }

    /** Node "a" with its listener, having computed {@code prompt} (greedy {@code tokens}), so it holds its blocks. */
    private record Holder(Node node, KvTransferServer server, int[] prompt, List<Integer> tokens) {
        InetSocketAddress peer() { return new InetSocketAddress("127.0.0.1", server.port()); }

        long[] hashes() { return node.engine().prefixHashes(prompt); }
    }

    private Holder holding(long seed, int promptTokens, KvSharingSettings settings) throws Exception {
        Node a = node("a");
        KvTransferServer server = serve(a, settings);
        int[] p = prompt(seed, promptTokens);
        List<Integer> tokens = new ArrayList<>();
        generate(a, "a", p, tokens);
        return new Holder(a, server, p, tokens);
    }

    private static KvPrefixPull puller(Node n, KvTransferClient client) {
        return new KvPrefixPull(n.engine(), n.loop()::wakeup, client);
    }

    @Test
    void aPulledPrefixIsAHitAndGivesTheSameTokens() throws Exception {
        Holder a = holding(1, 8 * BS + 5, KvSharingSettings.defaults());
        Node b = node("b");
        int[] p = a.prompt();
        List<Integer> fromA = a.tokens();
        KvPrefixPull.Outcome pulled = puller(b).pull(a.peer(), p, Duration.ofSeconds(10));
        assertNull(pulled.failure());
        assertEquals(8, pulled.blocks(), "every full prefix block came over");
        List<Integer> fromB = new ArrayList<>();
        RequestOutput out = generate(b, "b", p, fromB);
        assertEquals(8 * BS, out.cachedTokens(), "b computed only the suffix");
        assertEquals(fromA, fromB, "the pulled K/V give the same greedy tokens");
        assertEquals(8, b.engine().stats().onboardedPeerBlocks());
        assertEquals(8 * BS + 5, b.engine().stats().promptTokens());

        KvPrefixPull.Outcome again = puller(b).pull(a.peer(), p, Duration.ofSeconds(10));
        assertEquals(new KvPrefixPull.Outcome(0, null), again, "held blocks are not pulled twice");
    }

    @Test
    void aPushedBatchLandsInThePeersCache() throws Exception {
        Node a = node("a");
        Node c = node("c");
        KvTransferServer server = serve(c);
        int[] p = prompt(2, 5 * BS + 3);
        List<Integer> fromA = new ArrayList<>();
        generate(a, "a", p, fromA);
        var exported = a.engine().exportBlocks(a.engine().prefixHashes(p));
        a.loop().wakeup();
        KvBlockBatch blocks = exported.get(10, TimeUnit.SECONDS);
        assertEquals(5, blocks.size());
        int taken = client().push(new InetSocketAddress("127.0.0.1", server.port()), blocks, Duration.ofSeconds(10));
        assertEquals(5, taken);
        List<Integer> fromC = new ArrayList<>();
        assertEquals(5 * BS, generate(c, "c", p, fromC).cachedTokens());
        assertEquals(fromA, fromC);
    }

    @Test
    void successiveTransfersToAPeerShareOneKeptConnection() throws Exception {
        Holder a = holding(5, 6 * BS + 2, KvSharingSettings.defaults());
        KvTransferClient c = client();
        KvBlockBatch first = c.pull(a.peer(), a.hashes(), Duration.ofSeconds(10));
        KvBlockBatch second = c.pull(a.peer(), a.hashes(), Duration.ofSeconds(10));
        assertEquals(6, first.size());
        assertEquals(6, second.size());
        assertEquals(first.data(), second.data(), "the same bytes both times");
        assertEquals(1, a.server().connectionsAccepted(), "the second pull went over the first one's connection");
        c.release(first);
        c.release(second);
    }

    @Test
    void aKeptConnectionTheListenerClosedIsReplacedWithinTheTransfer() throws Exception {
        // the listener drops connections idle for 2 x 100 ms; the client would keep them for 30 s
        Holder a = holding(6, 4 * BS + 2, new KvSharingSettings("both", 0, 0, Duration.ofSeconds(30), 512, 4, 4,
                Duration.ofMillis(100), 64L << 20));
        KvTransferClient c = client();
        c.release(c.pull(a.peer(), a.hashes(), Duration.ofSeconds(10)));
        long t0 = System.nanoTime();
        while (a.server().connectionsOpen() > 0) { // the listener's idle timeout closes its end
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "the listener never closed it");
            Thread.sleep(20);
        }
        KvBlockBatch again = c.pull(a.peer(), a.hashes(), Duration.ofSeconds(10));
        assertEquals(4, again.size(), "the pull went through on a new connection");
        assertEquals(2, a.server().connectionsAccepted());
        c.release(again);
    }

    @Test
    void aPeerGoneSinceTheLastTransferFailsTheNextOneCleanly() throws Exception {
        Holder a = holding(7, 5 * BS + 2, KvSharingSettings.defaults());
        Node b = node("b");
        KvTransferClient c = client();
        c.release(c.pull(a.peer(), a.hashes(), Duration.ofSeconds(10)));
        a.server().close(); // its kept connection dies with it
        KvPrefixPull.Outcome out = puller(b, c).pull(a.peer(), a.prompt(), Duration.ofSeconds(10));
        assertEquals(0, out.blocks());
        assertNotNull(out.failure());
        assertEquals(b.engine().numKvBlocks(), b.engine().numFreeKvBlocks());
        assertEquals(0, generate(b, "b", a.prompt(), new ArrayList<>()).cachedTokens(), "b computed the prompt itself");
    }

    @Test
    void aPeerThatDiesMidStreamFailsThePullAndTheReceiverComputesThePrefix() throws Exception {
        Node b = node("b");
        int[] p = prompt(3, 6 * BS + 1);
        var empty = b.engine().exportBlocks(new long[0]);
        b.loop().wakeup();
        long blockBytes = empty.get(10, TimeUnit.SECONDS).blockBytes();
        try (ServerSocket dying = new ServerSocket(0)) {
            CountDownLatch asked = new CountDownLatch(1);
            Thread peer = new Thread(() -> {
                try (Socket s = dying.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    asked.countDown();
                    OutputStream o = s.getOutputStream();
                    // a valid reply header for 6 blocks, then half the data, then the process is gone
                    ByteBuffer head = ByteBuffer.allocate(1 + 21 + 6 * 8 + 6 * BS * 4);
                    head.put((byte) 0).putInt(6).putInt(BS).putInt((int) blockBytes).put((byte) 0).putLong(0);
                    o.write(head.array());
                    o.write(new byte[(int) (3 * blockBytes)]);
                    o.flush();
                } catch (IOException ignored) {
                    // the test only needs the cut
                }
            });
            peer.start();
            KvPrefixPull.Outcome out = puller(b).pull(new InetSocketAddress("127.0.0.1", dying.getLocalPort()), p,
                    Duration.ofSeconds(10));
            assertTrue(asked.await(10, TimeUnit.SECONDS));
            peer.join(10_000);
            assertEquals(0, out.blocks());
            assertNotNull(out.failure());
            assertTrue(out.failure().contains("closed the stream"), out.failure());
        }
        assertEquals(b.engine().numKvBlocks(), b.engine().numFreeKvBlocks());
        RequestOutput computed = generate(b, "b", p, new ArrayList<>());
        assertEquals(0, computed.cachedTokens(), "nothing of the failed pull reached the cache");
        assertEquals(0, b.engine().stats().onboardedPeerBlocks());
    }

    @Test
    void aPeerThatNeverAnswersFailsThePullAtItsDeadline() throws Exception {
        Node b = node("b");
        try (ServerSocket silent = new ServerSocket(0)) {
            long t0 = System.nanoTime();
            KvPrefixPull.Outcome out = puller(b).pull(new InetSocketAddress("127.0.0.1", silent.getLocalPort()),
                    prompt(4, 3 * BS + 1), Duration.ofMillis(300));
            assertEquals(0, out.blocks());
            assertTrue(out.failure().contains("deadline"), out.failure());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "the deadline ended it");
        }
    }
}

package ai.arbor.actors.router.select;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.router.KvWiring;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.TinyQwen2;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.LoadSharing;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A prefix cached only on worker A, with A busy: the kv router sends the request to worker B with a hint, and B pulls
 * the prefix's blocks from A over the block data plane (real engines on tiny-qwen2, real TCP) and computes only the
 * suffix — with the tokens A would have given.
 */
class PeerPullRoutingTest {
    static final int BS = 16;
    static HfModel model;

    @BeforeAll
    static void load() { model = TinyQwen2.load(); }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    @Test
    void aWorkerRoutedAPrefixABusyPeerHoldsPullsItInsteadOfComputingIt() throws Exception {
        ActorTestKit kit = ActorTestKit.create();
        InProcessKvEventBus bus = new InProcessKvEventBus();
        String name = "peer-pull";
        KvSharingSettings sharing = new KvSharingSettings("both", 0, 0, Duration.ofSeconds(20), 512, 2, 4,
                Duration.ofSeconds(30), 64L << 20);
        try (KvRouting routing = KvRouting.start(name, bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS))) {
            KvCostSelector selector = new KvCostSelector(kit.system(), routing, new Random(1), sharing);
            ActorRef<RouterActor.Command> router = kit.spawn(RouterActor.create(name, selector, Duration.ofSeconds(10)));
            List<KvEventPublisher> publishers = new ArrayList<>();
            Map<ActorRef<WorkerActor.Command>, LLMEngine> engines = new java.util.HashMap<>();
            for (int w = 0; w < 2; w++) {
                LLMEngine engine = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 16L << 20),
                        new EngineConfig(BS, 128, 4, 512, 0, true, 0));
                ActorRef<WorkerActor.Command> worker = kit.spawn(WorkerActor.create("w" + w, name, engine,
                        new WorkerActor.KvSharingConfig(sharing, "127.0.0.1", "127.0.0.1")));
                engines.put(worker, engine);
                publishers.add(KvWiring.publishEvents(kit.system(), worker, engine, bus, name));
            }
            for (int i = 0; i < 500 && selector.knownTransferEndpoints() < 2; i++) Thread.sleep(20);
            assertEquals(2, selector.knownTransferEndpoints(), "the router learned both workers' endpoints");

            Random rnd = new Random(5);
            int[] prefix = new int[8 * BS];
            for (int i = 0; i < prefix.length; i++) prefix[i] = 1 + rnd.nextInt(model.config().vocabSize() - 1);
            Result first = route(kit, router, "first", withSuffix(prefix, 3, rnd));
            for (KvEventPublisher p : publishers) assertTrue(p.flush(5000));
            ActorRef<WorkerActor.Command> a = first.worker();
            // A is busy computing a long prompt (as this router sees it): the next request of the prefix goes to B
            routing.routed("busy", WorkerIds.of(kit.system(), a), 4000, null);

            int[] second = withSuffix(prefix, 5, rnd);
            Result pulled = route(kit, router, "second", second);
            assertNotEquals(a, pulled.worker(), "the busy worker was passed over");
            assertEquals(8 * BS, pulled.output().cachedTokens(), "B computed only the suffix");
            assertEquals(8, engines.get(pulled.worker()).stats().onboardedPeerBlocks(), "the prefix came from A");
            assertEquals(second.length, engines.get(pulled.worker()).stats().promptTokens());
            assertEquals(0, engines.get(a).stats().onboardedPeerBlocks());
            // the same tokens as computing it: ask A for the same prompt (its own cache, no transfer)
            routing.released("busy");
            Result onA = generateOn(kit, a, "check", second);
            assertEquals(onA.tokens(), pulled.tokens());
        } finally {
            kit.shutdownTestKit();
            bus.close();
        }
    }

    private record Result(ActorRef<WorkerActor.Command> worker, RequestOutput output, List<Integer> tokens) {}

    private static int[] withSuffix(int[] prefix, int n, Random rnd) {
        int[] t = java.util.Arrays.copyOf(prefix, prefix.length + n);
        for (int i = prefix.length; i < t.length; i++) t[i] = 1 + rnd.nextInt(model.config().vocabSize() - 1);
        return t;
    }

    private static Result route(ActorTestKit kit, ActorRef<RouterActor.Command> router, String id, int[] prompt) {
        TestProbe<RouterActor.RouteReply> routed = kit.createTestProbe();
        TestProbe<WorkerActor.Reply> out = kit.createTestProbe();
        var g = new WorkerActor.Generate(new EngineRequest(id, prompt, SamplingParams.greedy(6)), out.getRef());
        router.tell(new RouterActor.Route(id, prompt, routed.getRef(), List.of(g)));
        ActorRef<WorkerActor.Command> worker = routed.expectMessageClass(RouterActor.Routed.class).worker();
        Result r = collect(worker, out);
        router.tell(new RouterActor.Release(id));
        return r;
    }

    private static Result generateOn(ActorTestKit kit, ActorRef<WorkerActor.Command> worker, String id, int[] prompt) {
        TestProbe<WorkerActor.Reply> out = kit.createTestProbe();
        worker.tell(new WorkerActor.Generate(new EngineRequest(id, prompt, SamplingParams.greedy(6)), out.getRef()));
        return collect(worker, out);
    }

    private static Result collect(ActorRef<WorkerActor.Command> worker, TestProbe<WorkerActor.Reply> out) {
        List<Integer> tokens = new ArrayList<>();
        while (true) {
            WorkerActor.Reply reply = out.receiveMessage(Duration.ofSeconds(60));
            assertInstanceOf(WorkerActor.Output.class, reply, reply.toString());
            RequestOutput o = ((WorkerActor.Output) reply).output();
            for (int t : o.newTokenIds()) tokens.add(t);
            if (o.finished()) return new Result(worker, o, tokens);
        }
    }
}

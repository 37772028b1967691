package ai.arbor.actors.router.kv;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.router.TinyQwen2;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.router.KvWiring;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.select.KvCostSelector;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.SamplingParams;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole chain with real engines: four LLMEngines on tiny-qwen2 (CPU) publish their real KV events through the
 * in-process bus, the router's index follows them, and the RouterActor in mode {@code kv} sends shared-prefix prompts
 * where their prefix is cached — which the engines confirm with cached tokens. Round-robin on the same load is the
 * baseline.
 */
class RealEngineKvRoutingTest {
    static final int BS = 16;
    static HfModel model;

    @BeforeAll
    static void load() {
        model = TinyQwen2.load();
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    @Test
    void kvRoutingTurnsSharedPrefixesIntoCacheHits() throws Exception {
        double kv = cachedTokenRatio("kv");
        double roundRobin = cachedTokenRatio("round-robin");
        // 4 system prompts of 4 blocks + a unique 20-token question, 24 requests: kv reuses each prefix after its
        // first request; round-robin spreads each prefix over every worker
        assertTrue(kv > 0.55, "kv cached-token ratio " + kv);
        System.out.printf("cached-token ratio: kv %.3f, round-robin %.3f%n", kv, roundRobin);
        assertTrue(kv > roundRobin + 0.15, "kv " + kv + " vs round-robin " + roundRobin);
    }

    private double cachedTokenRatio(String mode) throws Exception {
        ActorTestKit kit = ActorTestKit.create();
        InProcessKvEventBus bus = new InProcessKvEventBus();
        try {
            String name = "tiny-" + mode;
            KvRouting routing = KvRouting.start(name, bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS));
            WorkerSelector selector = mode.equals("kv") ? new KvCostSelector(kit.system(), routing, new Random(1))
                    : WorkerSelectors.create(mode);
            ActorRef<RouterActor.Command> router = kit.spawn(RouterActor.create(name, selector, Duration.ofSeconds(10)));
            List<KvEventPublisher> publishers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                EngineConfig config = new EngineConfig(BS, 128, 8, 512, 256, true, 16L << 20);
                LLMEngine engine = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 16L << 20), config);
                ActorRef<WorkerActor.Command> worker = kit.spawn(WorkerActor.create("w" + w, name, engine));
                publishers.add(KvWiring.publishEvents(kit.system(), worker, engine, bus, name));
            }
            TestProbe<RouterActor.Status> status = kit.createTestProbe();
            for (int i = 0; i < 200; i++) {
                router.tell(new RouterActor.GetStatus(status.getRef()));
                if (status.receiveMessage().workers() == 4) break;
                Thread.sleep(20);
            }

            Random rnd = new Random(7);
            int vocab = model.config().vocabSize();
            int[][] systemPrompts = new int[4][4 * BS];
            for (int[] p : systemPrompts) for (int i = 0; i < p.length; i++) p[i] = 1 + rnd.nextInt(vocab - 1);
            long prompt = 0, cached = 0;
            TestProbe<RouterActor.RouteReply> routed = kit.createTestProbe();
            TestProbe<WorkerActor.Reply> out = kit.createTestProbe();
            for (int r = 0; r < 24; r++) {
                int[] tokens = java.util.Arrays.copyOf(systemPrompts[rnd.nextInt(4)], 4 * BS + 20);
                for (int i = 4 * BS; i < tokens.length; i++) tokens[i] = 1 + rnd.nextInt(vocab - 1);
                String id = mode + "-" + r;
                router.tell(new RouterActor.Route(id, tokens, routed.getRef()));
                ActorRef<WorkerActor.Command> worker = routed.expectMessageClass(RouterActor.Routed.class).worker();
                worker.tell(new WorkerActor.Generate(new EngineRequest(id, tokens, SamplingParams.greedy(2)), out.getRef()));
                while (true) {
                    WorkerActor.Reply reply = out.receiveMessage(Duration.ofSeconds(60));
                    assertInstanceOf(WorkerActor.Output.class, reply, reply.toString());
                    var o = ((WorkerActor.Output) reply).output();
                    if (o.finished()) {
                        prompt += o.promptTokens();
                        cached += o.cachedTokens();
                        break;
                    }
                }
                router.tell(new RouterActor.Release(id));
                // events reach the routers within milliseconds; wait for them so the result does not depend on timing
                for (KvEventPublisher p : publishers) assertTrue(p.flush(5000));
            }
            if (mode.equals("kv")) {
                assertTrue(routing.indexer().stats().eventsApplied() > 0, "the engines' KV events reached the index");
                assertEquals(0, routing.indexer().stats().rejectedEvents());
                assertEquals(0, routing.indexer().stats().orphanStores());
            }
            routing.close();
            return (double) cached / prompt;
        } finally {
            kit.shutdownTestKit();
            bus.close();
        }
    }
}

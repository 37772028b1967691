package ai.arbor.actors.router.kv;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.router.TinyQwen2;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router's view of host KV tiers, fed by real engines (tiny-qwen2 on the CPU backend): a worker that holds a
 * prefix in its host tier beats one that must compute it, and loses to one that holds it in its primary pool.
 */
class HostTierRoutingTest {
    static final int BS = 16;
    static final int PRIMARY_BLOCKS = 24;
    static HfModel model;

    @BeforeAll
    static void load() {
        model = TinyQwen2.load();
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    private record Worker(long id, LLMEngine engine, List<KvEventPublisher> publishers) {}

    private static Worker worker(InProcessKvEventBus bus, String name, long id) {
        EngineConfig config = new EngineConfig(BS, PRIMARY_BLOCKS, 4, 512, 0, true, 0, 8L << 20);
        LLMEngine engine = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 16L << 20), config);
        KvEventPublisher device = bus.publisher(name, id);
        KvEventPublisher reachable = bus.publisher(name, WorkerIds.reachable(id));
        engine.addKvEventListener(device);
        engine.addReachableKvEventListener(reachable);
        return new Worker(id, engine, List.of(device, reachable));
    }

    private static RequestOutput run(Worker w, String id, int[] prompt) throws InterruptedException {
        AtomicReference<RequestOutput> last = new AtomicReference<>();
        w.engine().addRequest(new EngineRequest(id, prompt, SamplingParams.greedy(1)), out -> {
            if (out.finished()) last.set(out);
        });
        while (w.engine().hasWork()) w.engine().step();
        for (KvEventPublisher p : w.publishers()) assertTrue(p.flush(5000));
        return last.get();
    }

    private static int[] tokens(Random rnd, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 1 + rnd.nextInt(model.config().vocabSize() - 1);
        return t;
    }

    @Test
    void aHostTierHitCostsLessThanRecomputingAndMoreThanAPrimaryHit() throws Exception {
        InProcessKvEventBus bus = new InProcessKvEventBus();
        String name = "host-tier";
        KvRouting routing = KvRouting.start(name, bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS));
        List<Worker> workers = new ArrayList<>();
        try {
            Worker offloaded = worker(bus, name, 1);
            Worker onDevice = worker(bus, name, 2);
            Worker empty = worker(bus, name, 3);
            workers.addAll(List.of(offloaded, onDevice, empty));
            Random rnd = new Random(3);
            int[] prompt = tokens(rnd, 8 * BS + 5);
            run(offloaded, "a", prompt);
            run(onDevice, "b", prompt);
            // a pool's worth of other prompts pushes the prefix into worker 1's host tier
            for (int i = 0; i < 2; i++) run(offloaded, "flood-" + i, tokens(rnd, (PRIMARY_BLOCKS - 2) * BS));
            assertTrue(offloaded.engine().stats().hostKvBlocks() >= 8);

            long[] zero = new long[2];
            KvRouting.Decision d = routing.select(prompt, new long[] {1, 3}, zero, null, rnd);
            assertEquals(1, d.workerId(), "the host-tier hit wins over computing the prompt");
            assertEquals(0, d.overlapBlocks(), "nothing of it in the primary pool");
            assertEquals(8 * BS, d.cachedTokens(), "its host blocks count as cached");

            d = routing.select(prompt, new long[] {1, 2}, zero, null, rnd);
            assertEquals(2, d.workerId(), "a primary-pool hit wins over a host-tier hit");

            RequestOutput again = run(offloaded, "again", prompt);
            assertEquals(8 * BS, again.cachedTokens(), "the engine confirms: the prefix came back from host");
            assertEquals(0, routing.indexer().stats().rejectedEvents());
        } finally {
            for (Worker w : workers) {
                w.publishers().forEach(KvEventPublisher::close);
                w.engine().close();
            }
            routing.close();
            bus.close();
        }
    }
}

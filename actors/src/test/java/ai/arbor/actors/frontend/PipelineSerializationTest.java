package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.SamplingParams;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The frontend → router → worker pipeline with every message between actors serialized through Pekko's Jackson CBOR
 * serializer ({@code serialize-messages = on}), as it would be between nodes: what works here works remotely once the
 * Receptionist is cluster-wide.
 */
class PipelineSerializationTest {
    static ActorTestKit kit;
    static ByteTokenizer tok = new ByteTokenizer();
    static SyntheticEngine engine;
    static Frontend frontend;

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create("pipeline", ConfigFactory.parseString("""
                pekko.actor.serialize-messages = on
                pekko.actor.allow-java-serialization = off
                pekko.actor.serialization-bindings { "ai.arbor.actors.CborSerializable" = jackson-cbor }
                """).withFallback(ConfigFactory.load()));
        engine = new SyntheticEngine(256, 16, tok.eosTokenIds());
        var router = kit.spawn(RouterActor.create("m", WorkerSelectors.create("least-loaded"), Duration.ofSeconds(5)));
        kit.spawn(WorkerActor.create("w0", "m", engine));
        frontend = new Frontend(kit.system(), router, tok, Duration.ofSeconds(5), 0);
    }

    @AfterAll
    static void stop() { kit.shutdownTestKit(); }

    static List<GenerationEvent> run(GenerationSpec spec) throws Exception {
        return frontend.generate(spec).runWith(Sink.seq(), kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void tokensLogprobsAndUsageSurviveSerialization() throws Exception {
        SamplingParams p = new SamplingParams(0.7, 0.9, 5, 0, 3L, 0, 0, 1, 6, 0, false, new int[0], List.of(), 2);
        List<GenerationEvent> events = run(new GenerationSpec("r1", tok.encodePrompt("hello"), p, 2, List.of()));
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        int finished = 0;
        for (GenerationEvent e : events) {
            if (e instanceof GenerationEvent.Delta d) {
                text[d.index()].append(d.text());
                assertEquals(2, d.logprobs().get(0).topTokenIds().length);
            }
            if (e instanceof GenerationEvent.Finished f) {
                assertEquals(FinishReason.LENGTH, f.reason());
                finished++;
            }
        }
        assertEquals("helloh", text[0].toString());
        assertEquals("helloh", text[1].toString());
        assertEquals(2, finished);
        GenerationEvent.Usage u = (GenerationEvent.Usage) events.get(events.size() - 1);
        assertEquals(5, u.promptTokens());
        assertEquals(12, u.completionTokens());
    }

    @Test
    void workerRejectsWhatDoesNotFitAndTheStreamFails() {
        var ex = assertThrows(Exception.class, () -> run(new GenerationSpec("r2", tok.encodePrompt("x".repeat(200)),
                SamplingParams.greedy(100), 1, List.of())));
        Throwable cause = ex.getCause();
        assertInstanceOf(GenerationEvent.Failure.class, cause);
        assertEquals(400, ((GenerationEvent.Failure) cause).status());
        assertTrue(cause.getMessage().contains("256"), cause.getMessage());
    }

    @Test
    void workerReportsItsLoad() {
        TestProbe<WorkerActor.Load> probe = kit.createTestProbe();
        var listing = kit.createTestProbe(org.apache.pekko.actor.typed.receptionist.Receptionist.Listing.class);
        kit.system().receptionist().tell(org.apache.pekko.actor.typed.receptionist.Receptionist.find(
                WorkerActor.serviceKey("m"), listing.getRef()));
        var worker = listing.receiveMessage().getServiceInstances(WorkerActor.serviceKey("m")).iterator().next();
        worker.tell(new WorkerActor.GetLoad(probe.getRef()));
        WorkerActor.Load load = probe.receiveMessage();
        assertEquals("w0", load.workerId());
        assertEquals(256, load.maxModelLen());
    }
}

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
import java.util.concurrent.ExecutionException;
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
 * Receptionist is cluster-wide. The embedding messages also make a round trip through the serializer by hand, each
 * field compared, since the synthetic worker only ever answers {@code EmbedFailed}.
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

    /** {@code m} serialized and read back by the serializer the system binds to its class. */
    @SuppressWarnings("unchecked")
    static <T> T roundTrip(T m) {
        var serialization = org.apache.pekko.serialization.SerializationExtension.get(
                org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(kit.system()));
        var serializer = serialization.findSerializerFor(m);
        assertEquals("org.apache.pekko.serialization.jackson.JacksonCborSerializer", serializer.getClass().getName());
        byte[] bytes = serialization.serialize(m).get();
        String manifest = org.apache.pekko.serialization.Serializers.manifestFor(serializer, m);
        return (T) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    }

    @Test
    void embeddingMessagesSurviveSerialization() {
        TestProbe<WorkerActor.EmbedReply> replies = kit.createTestProbe();
        var embed = roundTrip(new WorkerActor.Embed("e1#m1", List.of(new int[] {1, 2, 3}, new int[] {70000}),
                replies.getRef()));
        assertEquals("e1#m1", embed.requestId());
        assertEquals(2, embed.inputs().size());
        assertArrayEquals(new int[] {1, 2, 3}, embed.inputs().get(0));
        assertArrayEquals(new int[] {70000}, embed.inputs().get(1));
        assertEquals(replies.getRef(), embed.replyTo());

        float[][] vectors = {{0.6f, -0.8f}, {Float.MIN_VALUE, 1f / 3}};
        WorkerActor.EmbedReply embedded = roundTrip((WorkerActor.EmbedReply) new WorkerActor.Embedded("e1", vectors));
        assertInstanceOf(WorkerActor.Embedded.class, embedded);
        assertEquals("e1", embedded.requestId());
        float[][] back = ((WorkerActor.Embedded) embedded).vectors();
        assertEquals(2, back.length);
        assertArrayEquals(vectors[0], back[0], "floats come back bit for bit");
        assertArrayEquals(vectors[1], back[1]);

        for (WorkerActor.EmbedFailed.Why why : WorkerActor.EmbedFailed.Why.values()) {
            WorkerActor.EmbedReply failed = roundTrip((WorkerActor.EmbedReply) new WorkerActor.EmbedFailed("e2", why,
                    "because " + why));
            assertEquals(new WorkerActor.EmbedFailed("e2", why, "because " + why), failed);
        }
    }

    @Test
    void anEmbeddingTakesTheSerializedPathToItsWorkerAndBack() {
        // the synthetic engine computes no embeddings: its worker's EmbedFailed comes back through the serializer
        var e = assertThrows(ExecutionException.class, () -> frontend.embed("e3", List.of(tok.encodePrompt("hi")))
                .get(10, TimeUnit.SECONDS));
        EmbeddingFailure f = assertInstanceOf(EmbeddingFailure.class, e.getCause());
        assertEquals(WorkerActor.EmbedFailed.Why.UNSUPPORTED, f.why());
        assertTrue(f.getMessage().contains("does not compute embeddings"), f.getMessage());
    }
}

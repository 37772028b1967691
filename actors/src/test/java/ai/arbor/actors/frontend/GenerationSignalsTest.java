package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.protocol.SamplingParams;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Frontend#start}: the first event is signalled before anything runs the events, a failure before any event
 * is signalled as such, and a request whose events nobody runs is given up at its worker.
 */
class GenerationSignalsTest {
    static final ByteTokenizer tok = new ByteTokenizer();
    static ActorTestKit kit;
    static SyntheticEngine engine;
    static Frontend frontend;
    static Frontend noWorkers;

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create("signals");
        // slow steps keep a long request running while the test looks at it
        engine = new SyntheticEngine(4096, 16, tok.eosTokenIds(), TimeUnit.MILLISECONDS.toNanos(5));
        var router = kit.spawn(RouterActor.create("m", WorkerSelectors.create("least-loaded"), Duration.ofSeconds(5)));
        kit.spawn(WorkerActor.create("w0", "m", engine));
        frontend = new Frontend(kit.system(), router, tok, Duration.ofSeconds(5), 0, Duration.ofMillis(200),
                Frontend.DEFAULT_EMBEDDING_DEADLINE);
        var empty = kit.spawn(RouterActor.create("none", WorkerSelectors.create("least-loaded"), Duration.ofMillis(50)));
        noWorkers = new Frontend(kit.system(), empty, tok, Duration.ofSeconds(5), 0, Duration.ofMillis(200),
                Frontend.DEFAULT_EMBEDDING_DEADLINE);
    }

    @AfterAll
    static void stop() { kit.shutdownTestKit(); }

    static GenerationSpec spec(String id, int maxTokens) {
        return new GenerationSpec(id, tok.encodePrompt("hello"), SamplingParams.greedy(maxTokens), 1, List.of());
    }

    @Test
    void theFirstEventIsSignalledBeforeTheEventsRunAndNothingIsLost() throws Exception {
        Generation g = frontend.start(spec("s1", 4));
        g.firstEvent().toCompletableFuture().get(5, TimeUnit.SECONDS);
        Thread.sleep(50); // the whole output arrives while nobody takes it
        List<GenerationEvent> events = g.events().runWith(Sink.seq(), kit.system()).toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        StringBuilder text = new StringBuilder();
        for (GenerationEvent e : events) if (e instanceof GenerationEvent.Delta d) text.append(d.text());
        assertEquals("hell", text.toString());
        assertEquals(4, ((GenerationEvent.Usage) events.get(events.size() - 1)).completionTokens());
        assertFalse(g.unclaimed().toCompletableFuture().isDone());
    }

    @Test
    void twoFrontendsOfOneSystemStartRequestsSideBySide() throws Exception {
        // as two served models do on one node: their request actors live under the same parent
        Generation running = frontend.start(spec("s4", 3000));
        Generation other = noWorkers.start(spec("s5", 4));
        running.firstEvent().toCompletableFuture().get(5, TimeUnit.SECONDS);
        var failed = assertThrows(ExecutionException.class,
                () -> other.firstEvent().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(503, ((GenerationEvent.Failure) failed.getCause()).status(), "no worker, not a name clash");
        running.events().take(1).runWith(Sink.seq(), kit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void aFailureBeforeAnyEventIsSignalledAndTheEventsFailTheSameWay() throws Exception {
        Generation g = noWorkers.start(spec("s2", 4));
        var signalled = assertThrows(ExecutionException.class,
                () -> g.firstEvent().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(503, ((GenerationEvent.Failure) signalled.getCause()).status());
        var ran = assertThrows(ExecutionException.class, () -> g.events().runWith(Sink.seq(), kit.system())
                .toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertSame(signalled.getCause(), ran.getCause());
    }

    @Test
    void eventsNobodyRunsAreGivenUpAtTheWorker() throws Exception {
        Generation g = frontend.start(spec("s3", 3000));
        g.firstEvent().toCompletableFuture().get(5, TimeUnit.SECONDS);
        g.unclaimed().toCompletableFuture().get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.stats().runningRequests() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(0, engine.stats().runningRequests(), "the worker aborted the request");
        var late = assertThrows(ExecutionException.class, () -> g.events().runWith(Sink.seq(), kit.system())
                .toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(503, ((GenerationEvent.Failure) late.getCause()).status(), "a late run ends at once");
    }
}

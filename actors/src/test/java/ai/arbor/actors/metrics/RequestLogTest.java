package ai.arbor.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.gpu.protocol.FinishReason;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Each tracked request ends in exactly one structured line carrying its id, outcome, tokens and timings. */
class RequestLogTest {

    @Test
    void oneLinePerRequestWithItsFields() throws Exception {
        ArborMetrics.start(Duration.ofSeconds(1));
        Logger logger = (Logger) LoggerFactory.getLogger("ai.arbor.requests");
        Level before = logger.getLevel();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        logger.setLevel(Level.INFO);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "request-log-test");
        try {
            List<GenerationEvent> ok = List.of(new GenerationEvent.Delta(0, "ab", new int[] {1, 2}, null),
                    new GenerationEvent.Finished(0, FinishReason.STOP), new GenerationEvent.Usage(9, 2, 4));
            FrontendMetrics.track(Source.from(ok), "chatcmpl-abc", "m-log", FrontendMetrics.CHAT, false)
                    .runWith(Sink.ignore(), system).toCompletableFuture().get(10, TimeUnit.SECONDS);
            Source<GenerationEvent, ?> failing = Source.failed(new GenerationEvent.Failure(503, "no worker"));
            FrontendMetrics.track(failing, "cmpl-def", "m-log", FrontendMetrics.COMPLETIONS, true)
                    .runWith(Sink.ignore(), system).exceptionally(t -> null).toCompletableFuture().get(10, TimeUnit.SECONDS);

            // the line is written on the stream's termination callback, which may run just after the sink completes
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (lines.list.size() < 2 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(2, lines.list.size(), lines.list.toString());
            // the termination callbacks run asynchronously, so the lines may come in either order
            ILoggingEvent first = lines.list.stream().filter(l -> l.getFormattedMessage().contains("id=chatcmpl-abc"))
                    .findFirst().orElseThrow(() -> new AssertionError("no line for chatcmpl-abc: " + lines.list));
            ILoggingEvent failed = lines.list.stream().filter(l -> l != first).findFirst().orElseThrow();
            String msg = first.getFormattedMessage();
            for (String f : List.of("id=chatcmpl-abc", "model=m-log", "endpoint=chat_completions", "type=unary",
                    "status=success", "prompt_tokens=9", "completion_tokens=2", "cached_tokens=4", "ttft_ms=", "duration_ms=")) {
                assertTrue(msg.contains(f), f + " missing from: " + msg);
            }
            Map<String, Object> kv = first.getKeyValuePairs().stream().collect(Collectors.toMap(p -> p.key, p -> p.value));
            assertEquals("chatcmpl-abc", kv.get("request_id"));
            assertEquals(9, kv.get("prompt_tokens"));
            String second = failed.getFormattedMessage();
            assertTrue(second.contains("id=cmpl-def") && second.contains("status=error") && second.contains("no worker"), second);
        } finally {
            logger.detachAppender(lines);
            logger.setLevel(before);
            system.terminate();
        }
    }
}

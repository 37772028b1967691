package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventChannelTest {

    @Test
    void aWaitingConsumerIsWokenOnceAndTakesWhatCame() {
        EventChannel c = new EventChannel(null, true);
        AtomicInteger wakeups = new AtomicInteger();
        c.attach(wakeups::incrementAndGet, i -> {});
        assertNull(c.take());
        c.offer(new GenerationEvent.Finished(0, ai.arbor.gpu.protocol.FinishReason.STOP));
        c.offer(EventChannel.COMPLETE);
        assertEquals(1, wakeups.get(), "woken for the first offer only");
        assertInstanceOf(GenerationEvent.Finished.class, c.take());
        assertSame(EventChannel.COMPLETE, c.take());
        assertEquals(1, wakeups.get());
    }

    @Test
    void deltasOfOneChoiceThatQueuedUpAreTakenAsOne() {
        EventChannel c = new EventChannel(null, true);
        c.offer(new GenerationEvent.Delta(0, "Hel", new int[] {1}, null));
        c.offer(new GenerationEvent.Delta(0, "lo", new int[] {2, 3}, null));
        c.offer(new GenerationEvent.Delta(1, "x", new int[] {4}, null));
        c.offer(new GenerationEvent.Delta(0, "!", new int[] {5}, null));
        var first = (GenerationEvent.Delta) c.take();
        assertEquals("Hello", first.text());
        assertArrayEquals(new int[] {1, 2, 3}, first.tokenIds());
        assertEquals("x", ((GenerationEvent.Delta) c.take()).text(), "another choice is not merged across");
        assertEquals("!", ((GenerationEvent.Delta) c.take()).text());
        assertNull(c.take());
    }

    @Test
    void logprobsOfMergedDeltasStayInOrder() {
        var a = new ai.arbor.gpu.protocol.TokenLogprobs(1, -1f, new int[0], new float[0]);
        var b = new ai.arbor.gpu.protocol.TokenLogprobs(2, -2f, new int[0], new float[0]);
        EventChannel c = new EventChannel(null, true);
        c.offer(new GenerationEvent.Delta(0, "a", new int[] {1}, List.of(a)));
        c.offer(new GenerationEvent.Delta(0, "b", new int[] {2}, List.of(b)));
        assertEquals(List.of(a, b), ((GenerationEvent.Delta) c.take()).logprobs());
    }
}

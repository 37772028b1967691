package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Engine outputs offered to an {@link EventChannel} come out as the events the HTTP layer renders. */
class OutputDecoderTest {
    private final ByteTokenizer tokenizer = new ByteTokenizer();

    private EventChannel channel(int n, List<String> stop, List<Integer> stopped) {
        GenerationSpec spec = new GenerationSpec("r", tokenizer.encodePrompt("hi"), SamplingParams.greedy(16), n, stop);
        EventChannel c = new EventChannel(new OutputDecoder(spec, tokenizer), true);
        c.attach(() -> {}, stopped::add);
        return c;
    }

    private RequestOutput out(String id, String text, FinishReason finished) {
        return new RequestOutput(id, tokenizer.encodePrompt(text), null, finished != null, finished, 2, 1, 0);
    }

    private RequestOutput token(String text, int outputTokens, FinishReason finished) {
        return new RequestOutput("r", tokenizer.encodePrompt(text), null, finished != null, finished, 2, 0,
                outputTokens);
    }

    private EventChannel wakeCounting(boolean everyOutput, List<String> wakes) {
        GenerationSpec spec = new GenerationSpec("r", tokenizer.encodePrompt("hi"), SamplingParams.greedy(16), 1,
                List.of());
        EventChannel c = new EventChannel(new OutputDecoder(spec, tokenizer), everyOutput);
        c.attach(() -> wakes.add("wake"), i -> {});
        return c;
    }

    @Test
    void forOneJsonDocumentOnlyTheFirstAndLastOutputsWakeTheConsumer() {
        List<String> wakes = new ArrayList<>();
        EventChannel c = wakeCounting(false, wakes);
        assertNull(c.take());
        c.offer(token("a", 1, null));
        assertEquals(1, wakes.size(), "the first token wakes it (time to first token)");
        assertEquals("a", ((GenerationEvent.Delta) c.take()).text());
        assertNull(c.take());
        c.offer(token("b", 2, null));
        c.offer(token("c", 3, null));
        assertEquals(1, wakes.size(), "tokens in between do not");
        c.offer(token("d", 4, FinishReason.LENGTH));
        assertEquals(2, wakes.size(), "the last one does");
        assertEquals("bcd", ((GenerationEvent.Delta) c.take()).text(), "taken together, as one delta");
        assertEquals(new GenerationEvent.Finished(0, FinishReason.LENGTH), c.take());
    }

    @Test
    void aStreamedResponseIsWokenForEveryOutput() {
        List<String> wakes = new ArrayList<>();
        EventChannel c = wakeCounting(true, wakes);
        for (int k = 1; k <= 3; k++) {
            assertNull(c.take());
            c.offer(token("x", k, null));
            assertEquals(k, wakes.size());
            assertEquals("x", ((GenerationEvent.Delta) c.take()).text());
        }
    }

    @Test
    void outputsQueuedUpAreDecodedIntoOneDeltaThenFinishUsageAndComplete() {
        EventChannel c = channel(1, List.of(), new ArrayList<>());
        c.offer(out("r", "Hel", null));
        c.offer(out("r", "lo", FinishReason.LENGTH));
        assertEquals("Hello", ((GenerationEvent.Delta) c.take()).text());
        assertEquals(new GenerationEvent.Finished(0, FinishReason.LENGTH), c.take());
        assertEquals(new GenerationEvent.Usage(2, 5, 1), c.take());
        assertSame(EventChannel.COMPLETE, c.take());
        assertNull(c.take());
    }

    @Test
    void aStopStringEndsTheChoiceAndReportsItWhileTheEngineRequestStillRuns() {
        List<Integer> stopped = new ArrayList<>();
        EventChannel c = channel(2, List.of("!"), stopped);
        c.offer(out("r-1", "ab!cd", null));
        c.offer(out("r-1", "late", FinishReason.ABORT)); // the cancel's abort: ignored
        assertEquals("ab", ((GenerationEvent.Delta) c.take()).text());
        assertEquals(new GenerationEvent.Finished(1, FinishReason.STOP), c.take());
        assertEquals(List.of(1), stopped);
        assertNull(c.take(), "choice 0 has not finished: no usage yet");
        c.offer(out("r-0", "x", FinishReason.STOP));
        assertEquals(0, ((GenerationEvent.Delta) c.take()).index());
        assertInstanceOf(GenerationEvent.Finished.class, c.take());
        assertEquals(6, ((GenerationEvent.Usage) c.take()).completionTokens(), "every token the engine produced");
    }

    @Test
    void anAbortNotAskedForFailsTheStream() {
        EventChannel c = channel(1, List.of(), new ArrayList<>());
        c.offer(out("r", "", FinishReason.ABORT));
        assertEquals(503, ((GenerationEvent.Failure) c.take()).status());
    }
}

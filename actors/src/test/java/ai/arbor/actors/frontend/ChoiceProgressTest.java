package ai.arbor.actors.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A choice that moves to another worker: one stream, no token repeated, usage over the whole choice. */
class ChoiceProgressTest {
    private static final ByteTokenizer TOK = new ByteTokenizer();

    private static int id(char c) { return TOK.encodePrompt(String.valueOf(c))[0]; }

    private static RequestOutput out(String requestId, char c, boolean finished, int promptTokens, int outputTokens) {
        return new RequestOutput(requestId, new int[] {id(c)}, null, finished, finished ? FinishReason.LENGTH : null,
                promptTokens, 0, outputTokens);
    }

    @Test
    void aMovedChoiceContinuesUnderItsOwnIdAndDropsTheLostAttemptsOutputs() {
        GenerationSpec spec = new GenerationSpec("r", TOK.encodePrompt("hi"), SamplingParams.greedy(4), 1, List.of());
        EventChannel channel = new EventChannel(new OutputDecoder(spec, TOK), true);
        channel.attach(() -> {}, i -> {});
        ChoiceProgress p = new ChoiceProgress("r", 2);
        assertTrue(p.deliver(out("r", 'a', false, 2, 1), channel));
        assertTrue(p.deliver(out("r", 'b', false, 2, 2), channel));
        assertArrayEquals(new int[] {id('a'), id('b')}, p.nextAttempt(1));
        assertEquals("r#m1", p.attemptId());
        // the lost worker's late output is not the stream's any more
        assertFalse(p.deliver(out("r", 'x', false, 2, 3), channel));
        // the new attempt's prompt is 4 tokens long and it counts from 1: the stream sees the choice's own numbers
        assertTrue(p.deliver(out("r#m1", 'c', false, 4, 1), channel));
        assertTrue(p.deliver(out("r#m1", 'd', true, 4, 2), channel));
        StringBuilder text = new StringBuilder();
        List<Object> ends = new ArrayList<>();
        for (Object e; (e = channel.take()) != null; ) {
            if (e instanceof GenerationEvent.Delta d) text.append(d.text());
            else ends.add(e);
        }
        assertEquals("abcd", text.toString());
        assertEquals(new GenerationEvent.Finished(0, FinishReason.LENGTH), ends.get(0));
        assertEquals(new GenerationEvent.Usage(2, 4, 0), ends.get(1));
        assertSame(EventChannel.COMPLETE, ends.get(2));
    }
}

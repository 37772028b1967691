package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.tokenizer.StopStringMatcher;
import java.util.Queue;
import java.util.function.IntConsumer;

/**
 * Turns one request's engine outputs into {@link GenerationEvent}s: incremental detokenizing, stop strings, finish
 * reasons, usage. It runs where the events are taken (the response stream, through {@link EventChannel}), so a token
 * reaches the client with no hop through the request's actor, and text a slow client has not taken yet is decoded
 * only once it is taken. Not thread-safe: one consumer.
 */
final class OutputDecoder {

    private static final class Choice {
        final TextDecoder decoder;
        final StopStringMatcher stops;
        boolean finished;
        int outputTokens;

        Choice(TextDecoder decoder, StopStringMatcher stops) {
            this.decoder = decoder;
            this.stops = stops;
        }
    }

    private final GenerationSpec spec;
    private final Choice[] choices;
    private int unfinished;
    private int promptTokens;
    private int cachedTokens = -1;

    OutputDecoder(GenerationSpec spec, ModelTokenizer tokenizer) {
        this.spec = spec;
        this.promptTokens = spec.promptTokenIds().length;
        this.choices = new Choice[spec.n()];
        for (int i = 0; i < spec.n(); i++) {
            choices[i] = new Choice(tokenizer.newDecoder(spec.promptTokenIds()), new StopStringMatcher(spec.stop()));
        }
        this.unfinished = spec.n();
    }

    /**
     * Appends {@code out}'s events to {@code into}: a delta, a choice's end, and after the last choice the usage and
     * {@link EventChannel#COMPLETE}; or a {@link GenerationEvent.Failure} when the worker aborted the choice.
     *
     * @param stopped told the index of a choice that a stop string ended before its engine did
     */
    void decode(RequestOutput out, Queue<Object> into, IntConsumer stopped) {
        int index = spec.choiceOf(out.requestId());
        if (index < 0) return;
        Choice c = choices[index];
        if (c.finished) return;
        if (index == 0 && cachedTokens < 0) cachedTokens = out.cachedTokens();
        promptTokens = out.promptTokens() > 0 ? out.promptTokens() : promptTokens;
        int[] ids = out.newTokenIds();
        String text;
        if (ids.length == 1 && !out.finished()) {
            text = c.decoder.next(ids[0]);
        } else {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) sb.append(c.decoder.next(id));
            if (out.finished()) sb.append(c.decoder.flush());
            text = sb.toString();
        }
        c.outputTokens += ids.length;
        StopStringMatcher.Result pushed = c.stops.push(text);
        String safe = pushed.text();
        FinishReason reason = null;
        if (pushed.stopped()) {
            reason = FinishReason.STOP;
            if (!out.finished()) stopped.accept(index);
        } else if (out.finished()) {
            if (out.finishReason() == FinishReason.ABORT) {
                c.finished = true;
                into.add(new GenerationEvent.Failure(503, "the worker aborted the request"));
                return;
            }
            safe = safe + c.stops.flush();
            reason = out.finishReason();
        }
        if (!safe.isEmpty() || (out.logprobs() != null && !out.logprobs().isEmpty())) {
            into.add(new GenerationEvent.Delta(index, safe, ids, out.logprobs()));
        }
        if (reason == null) return;
        c.finished = true;
        into.add(new GenerationEvent.Finished(index, reason));
        if (--unfinished > 0) return;
        int completion = 0;
        for (Choice ch : choices) completion += ch.outputTokens;
        into.add(new GenerationEvent.Usage(promptTokens, completion, Math.max(cachedTokens, 0)));
        into.add(EventChannel.COMPLETE);
    }
}

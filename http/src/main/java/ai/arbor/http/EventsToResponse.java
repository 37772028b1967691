package ai.arbor.http;

import ai.arbor.actors.generation.GenerationEvent;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.function.Creator;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** Turns a request's generation events into the bytes of its response: SSE chunks, or one JSON document. */
final class EventsToResponse {
    private EventsToResponse() {}

    /**
     * {@code data: {...}\n\n} per chunk, the usage chunk when asked for, then {@code data: [DONE]}. A failure after
     * the headers went out becomes an error event followed by [DONE], as vLLM does.
     */
    static Source<ByteString, NotUsed> sse(OutputFormat fmt, ParsedRequest r, Source<GenerationEvent, NotUsed> events) {
        int prompts = r.prompts().size();
        List<ByteString> opening = fmt.sseOpening(prompts * r.n());
        Creator<Function<GenerationEvent, Iterable<ByteString>>> perStream = () -> {
            int[] totals = new int[3];
            int[] usages = {0};
            return e -> {
                if (e instanceof GenerationEvent.Delta d) {
                    // a parser may hold text back (a tag that may be starting): nothing to send yet
                    ByteString b = fmt.sseDelta(d);
                    return b.isEmpty() ? List.of() : List.of(b);
                }
                if (e instanceof GenerationEvent.Finished f) return List.of(fmt.sseFinish(f.index(), f.reason().openAi()));
                GenerationEvent.Usage u = (GenerationEvent.Usage) e;
                totals[0] += u.promptTokens();
                totals[1] += u.completionTokens();
                totals[2] += u.cachedTokens();
                if (++usages[0] < prompts) return List.of();
                if (!r.includeUsage()) return List.of(Json.DONE);
                return List.of(Json.sse(fmt.usageChunk(OutputFormat.usage(totals[0], totals[1], totals[2]))), Json.DONE);
            };
        };
        return Source.from(opening)
                .concat(events.statefulMapConcat(perStream))
                .recoverWithRetries(1, new PFBuilder<Throwable, Graph<SourceShape<ByteString>, NotUsed>>()
                        .match(GenerationEvent.Failure.class, f -> Source.from(List.of(Json.sse(
                                new ApiError(f.status(), "server_error", f.getMessage(), null, null).toJson()), Json.DONE)))
                        .build());
    }

    /**
     * The whole response, built once every choice finished. While it is being generated, a space (valid leading JSON
     * whitespace) goes out every {@link #KEEP_ALIVE}: writing is how the server notices a client that hung up, which
     * then cancels the generation.
     */
    static Source<ByteString, NotUsed> json(OutputFormat fmt, ParsedRequest r, Source<GenerationEvent, NotUsed> events) {
        int choices = r.prompts().size() * r.n();
        return events.fold(new Whole(choices), (w, e) -> w.add(fmt, e))
                .map(w -> ByteString.fromArrayUnsafe(Json.bytes(fmt.response(w.choices,
                        OutputFormat.usage(w.prompt, w.completion, w.cached)))))
                .keepAlive(KEEP_ALIVE, () -> SPACE);
    }

    static final java.time.Duration KEEP_ALIVE = java.time.Duration.ofMillis(250);
    private static final ByteString SPACE = ByteString.fromString(" ");

    private static final class Whole {
        final List<OutputFormat.ChoiceText> choices = new ArrayList<>();
        int prompt, completion, cached;

        Whole(int n) {
            for (int i = 0; i < n; i++) choices.add(new OutputFormat.ChoiceText());
        }

        Whole add(OutputFormat fmt, GenerationEvent e) {
            if (e instanceof GenerationEvent.Delta d) {
                fmt.accumulate(choices.get(d.index()), d);
            } else if (e instanceof GenerationEvent.Finished f) {
                choices.get(f.index()).finishReason = f.reason().openAi();
            } else if (e instanceof GenerationEvent.Usage u) {
                prompt += u.promptTokens();
                completion += u.completionTokens();
                cached += u.cachedTokens();
            }
            return this;
        }
    }
}

package ai.arbor.http;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.http.chat.ChatOutputParser;
import ai.arbor.http.chat.ChatPiece;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

/**
 * OpenAI's Responses API output for one generation: the {@code response} object, whole or as the streamed events
 * ({@code response.created}, {@code response.in_progress}, item and delta events, {@code response.completed}), each
 * sent as {@code event: <type>} plus {@code data: <json>} like OpenAI's server.
 */
final class ResponsesFormat {
    private final String id;
    private final long created;
    private final ParsedRequest request;
    private final JsonNode body;

    ResponsesFormat(String id, long created, ParsedRequest request, JsonNode body) {
        this.id = id;
        this.created = created;
        this.request = request;
        this.body = body;
    }

    /** The response object in a given state; {@code output} and {@code usage} are filled when it completed. */
    ObjectNode response(String status, ResponseItems items, GenerationEvent.Usage usage, String finishReason) {
        ObjectNode r = Json.object();
        r.put("id", id);
        r.put("object", "response");
        r.put("created_at", created);
        r.put("status", status);
        r.put("model", request.model().name());
        r.putNull("error");
        if ("length".equals(finishReason)) r.putObject("incomplete_details").put("reason", "max_output_tokens");
        else r.putNull("incomplete_details");
        r.set("instructions", body.path("instructions").isTextual() ? body.get("instructions") : Json.F.nullNode());
        r.put("max_output_tokens", request.sampling().maxTokens());
        r.set("metadata", body.path("metadata").isObject() ? body.get("metadata") : Json.object());
        r.set("output", items == null ? Json.F.arrayNode() : items.output());
        r.put("parallel_tool_calls", request.rules().parallelToolCalls());
        r.put("temperature", request.sampling().temperature());
        r.put("top_p", request.sampling().topP());
        r.set("tool_choice", body.hasNonNull("tool_choice") ? body.get("tool_choice") : Json.F.textNode("auto"));
        r.set("tools", body.path("tools").isArray() ? body.get("tools") : Json.F.arrayNode());
        r.putObject("text").putObject("format").put("type", "text");
        r.put("store", false);
        if (usage == null) {
            r.putNull("usage");
        } else {
            ObjectNode u = r.putObject("usage");
            u.put("input_tokens", usage.promptTokens());
            u.putObject("input_tokens_details").put("cached_tokens", usage.cachedTokens());
            u.put("output_tokens", usage.completionTokens());
            u.putObject("output_tokens_details").put("reasoning_tokens", 0);
            u.put("total_tokens", usage.promptTokens() + usage.completionTokens());
        }
        return r;
    }

    /** The whole response once the generation ended (a space goes out meanwhile, as for chat). */
    Source<ByteString, NotUsed> json(Source<GenerationEvent, NotUsed> events) {
        StringBuilder text = new StringBuilder();
        String[] reason = {"stop"};
        GenerationEvent.Usage[] usage = {null};
        return events.fold(text, (t, e) -> {
                    if (e instanceof GenerationEvent.Delta d) t.append(d.text());
                    else if (e instanceof GenerationEvent.Finished f) reason[0] = f.reason().openAi();
                    else if (e instanceof GenerationEvent.Usage u) usage[0] = u;
                    return t;
                })
                .map(t -> {
                    ChatOutputParser parser = request.rules().newParser();
                    ResponseItems items = new ResponseItems();
                    List<ChatPiece> pieces = new ArrayList<>(parser.feed(t.toString()));
                    pieces.addAll(parser.end());
                    for (ChatPiece p : pieces) items.add(p);
                    items.end();
                    return ByteString.fromArrayUnsafe(Json.bytes(response(status(reason[0]), items, usage[0], reason[0])));
                })
                .keepAlive(EventsToResponse.KEEP_ALIVE, () -> ByteString.fromString(" "));
    }

    private static String status(String finishReason) { return "length".equals(finishReason) ? "incomplete" : "completed"; }

    /** The streamed events, numbered; a failure after the start becomes a {@code response.failed} event. */
    Source<ByteString, NotUsed> sse(Source<GenerationEvent, NotUsed> events) {
        int[] sequence = {0};
        ObjectNode createdEvent = Json.object().put("type", "response.created");
        createdEvent.set("response", response("in_progress", null, null, null));
        ObjectNode progress = Json.object().put("type", "response.in_progress");
        progress.set("response", response("in_progress", null, null, null));
        Creator<Function<GenerationEvent, Iterable<ByteString>>> perStream = () -> {
            ChatOutputParser parser = request.rules().newParser();
            ResponseItems items = new ResponseItems();
            String[] reason = {"stop"};
            return e -> {
                List<ObjectNode> out = new ArrayList<>();
                if (e instanceof GenerationEvent.Delta d) {
                    for (ChatPiece p : parser.feed(d.text())) out.addAll(items.add(p));
                } else if (e instanceof GenerationEvent.Finished f) {
                    reason[0] = f.reason().openAi();
                    for (ChatPiece p : parser.end()) out.addAll(items.add(p));
                    out.addAll(items.end());
                } else if (e instanceof GenerationEvent.Usage u) {
                    String status = status(reason[0]);
                    ObjectNode done = Json.object().put("type", status.equals("completed") ? "response.completed"
                            : "response.incomplete");
                    done.set("response", response(status, items, u, reason[0]));
                    out.add(done);
                }
                return encode(out, sequence);
            };
        };
        return Source.from(encode(List.of(createdEvent, progress), sequence))
                .concat(events.statefulMapConcat(perStream))
                .recoverWithRetries(1, new PFBuilder<Throwable, Graph<SourceShape<ByteString>, NotUsed>>()
                        .match(GenerationEvent.Failure.class, f -> {
                            ObjectNode failed = Json.object().put("type", "response.failed");
                            ObjectNode r = response("failed", null, null, null);
                            r.putObject("error").put("code", "server_error").put("message", f.getMessage());
                            failed.set("response", r);
                            return Source.from(encode(List.of(failed), sequence));
                        })
                        .build());
    }

    private static List<ByteString> encode(List<ObjectNode> events, int[] sequence) {
        List<ByteString> out = new ArrayList<>(events.size());
        for (ObjectNode e : events) {
            e.put("sequence_number", sequence[0]++);
            out.add(ByteString.fromString("event: " + e.get("type").asText() + "\n").concat(Json.sse(e)));
        }
        return out;
    }
}

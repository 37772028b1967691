package ai.arbor.http;

import ai.arbor.http.chat.ChatPiece;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The output items of one response, built from the parsed pieces of the model's text: a {@code reasoning} item, a
 * {@code message} with one {@code output_text} part, {@code function_call} items. Each piece yields the streaming
 * events it causes (an item opens with {@code response.output_item.added}, grows with deltas and closes with its
 * {@code .done} events when another kind of piece begins or the output ends); the closed items make up the final
 * response's {@code output}. One per response, fed by its event stream alone.
 */
final class ResponseItems {
    private final ArrayNode output = Json.F.arrayNode();
    private ObjectNode open;
    private String openKind;
    private final StringBuilder text = new StringBuilder();
    private int calls;

    ArrayNode output() { return output; }

    /** Whether any function call was made. */
    boolean called() { return calls > 0; }

    /** The events {@code piece} causes (bare event objects: type and fields, without sequence numbers). */
    List<ObjectNode> add(ChatPiece piece) {
        List<ObjectNode> events = new ArrayList<>();
        if (piece instanceof ChatPiece.Content c) {
            ensure("message", events);
            text.append(c.text());
            events.add(event("response.output_text.delta").put("content_index", 0).put("delta", c.text())
                    .<ObjectNode>set("logprobs", Json.F.arrayNode()));
        } else if (piece instanceof ChatPiece.Reasoning r) {
            ensure("reasoning", events);
            text.append(r.text());
            events.add(event("response.reasoning_text.delta").put("content_index", 0).put("delta", r.text()));
        } else if (piece instanceof ChatPiece.CallStart s) {
            close(events);
            openKind = "function_call";
            open = Json.object().put("type", "function_call").put("id", "fc_" + hex()).put("call_id", "call_" + hex())
                    .put("name", s.name()).put("arguments", "").put("status", "in_progress");
            calls++;
            events.add(event("response.output_item.added").set("item", open.deepCopy()));
        } else if (piece instanceof ChatPiece.CallArguments a) {
            text.append(a.fragment());
            events.add(event("response.function_call_arguments.delta").put("delta", a.fragment()));
        }
        return events;
    }

    /** The output ended: the open item closes. */
    List<ObjectNode> end() {
        List<ObjectNode> events = new ArrayList<>();
        close(events);
        return events;
    }

    private void ensure(String kind, List<ObjectNode> events) {
        if (kind.equals(openKind)) return;
        close(events);
        openKind = kind;
        String id = (kind.equals("message") ? "msg_" : "rs_") + hex();
        open = Json.object().put("type", kind).put("id", id);
        if (kind.equals("message")) open.put("status", "in_progress").put("role", "assistant").putArray("content");
        else open.putArray("summary");
        events.add(event("response.output_item.added").set("item", open.deepCopy()));
        if (kind.equals("message")) {
            events.add(event("response.content_part.added").put("content_index", 0).set("part", textPart("")));
        }
    }

    private void close(List<ObjectNode> events) {
        if (open == null) return;
        String t = text.toString();
        switch (openKind) {
            case "message" -> {
                events.add(event("response.output_text.done").put("content_index", 0).put("text", t)
                        .<ObjectNode>set("logprobs", Json.F.arrayNode()));
                events.add(event("response.content_part.done").put("content_index", 0).set("part", textPart(t)));
                open.put("status", "completed");
                open.withArray("content").add(textPart(t));
            }
            case "reasoning" -> {
                events.add(event("response.reasoning_text.done").put("content_index", 0).put("text", t));
                open.putArray("content").addObject().put("type", "reasoning_text").put("text", t);
            }
            default -> {
                events.add(event("response.function_call_arguments.done").put("arguments", t));
                open.put("arguments", t).put("status", "completed");
            }
        }
        events.add(event("response.output_item.done").set("item", open.deepCopy()));
        output.add(open);
        open = null;
        openKind = null;
        text.setLength(0);
    }

    /** An event about the open item (the one being added, or the last one). */
    private ObjectNode event(String type) {
        ObjectNode e = Json.object().put("type", type);
        e.put("output_index", output.size());
        if (open != null && !type.equals("response.output_item.added")) e.put("item_id", open.get("id").asText());
        return e;
    }

    private static ObjectNode textPart(String t) {
        ObjectNode p = Json.object().put("type", "output_text").put("text", t);
        p.putArray("annotations");
        p.putArray("logprobs");
        return p;
    }

    private static String hex() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }
}

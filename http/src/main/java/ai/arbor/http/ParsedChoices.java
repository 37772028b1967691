package ai.arbor.http;

import ai.arbor.http.chat.ChatOutputParser;
import ai.arbor.http.chat.ChatPiece;
import ai.arbor.http.chat.OutputRules;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A chat response's choices read through their {@link ChatOutputParser}s: streamed, each delta's pieces become
 * OpenAI delta objects ({@code reasoning_content}, {@code content}, {@code tool_calls} with id, type and name first,
 * then argument fragments); whole, the text becomes the message's fields. One per response; the response's event
 * stream is its only caller.
 */
final class ParsedChoices {
    private final OutputRules rules;
    private final Map<Integer, Choice> choices = new HashMap<>();

    private static final class Choice {
        final ChatOutputParser parser;
        final List<String> ids = new ArrayList<>();

        Choice(OutputRules rules) { this.parser = rules.newParser(); }
    }

    ParsedChoices(OutputRules rules) { this.rules = rules; }

    /** The delta objects for new text of choice {@code index}. */
    List<ObjectNode> deltas(int index, String text) { return deltas(choice(index), choice(index).parser.feed(text)); }

    /** The delta objects of what choice {@code index} held back until its end. */
    List<ObjectNode> end(int index) { return deltas(choice(index), choice(index).parser.end()); }

    /** OpenAI ends a choice that called tools with {@code tool_calls}, unless it was cut short. */
    String finishReason(int index, String reason) {
        Choice c = choices.get(index);
        boolean called = c != null && c.parser.calls() > 0;
        return called && rules.callsFinishAsToolCalls() && reason.equals("stop") ? "tool_calls" : reason;
    }

    /** Fills a whole response's {@code message} from the choice's full text; returns its finish reason. */
    String message(ObjectNode msg, String text, String reason) {
        Choice c = new Choice(rules);
        List<ChatPiece> pieces = new ArrayList<>(c.parser.feed(text));
        pieces.addAll(c.parser.end());
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        List<String[]> calls = new ArrayList<>();
        for (ChatPiece p : pieces) {
            if (p instanceof ChatPiece.Content x) content.append(x.text());
            else if (p instanceof ChatPiece.Reasoning x) reasoning.append(x.text());
            else if (p instanceof ChatPiece.CallStart s) calls.add(new String[] {s.name(), ""});
            else if (p instanceof ChatPiece.CallArguments a) calls.get(a.call())[1] += a.fragment();
        }
        // as vLLM: no content at all (only calls or only reasoning) is null, not ""
        if (content.length() == 0 && (!calls.isEmpty() || reasoning.length() > 0)) msg.putNull("content");
        else msg.put("content", content.toString());
        if (rules.reasoning() != OutputRules.Reasoning.NONE) {
            if (reasoning.length() == 0) msg.putNull("reasoning_content");
            else msg.put("reasoning_content", reasoning.toString());
        }
        if (!calls.isEmpty()) {
            ArrayNode arr = msg.putArray("tool_calls");
            for (String[] call : calls) {
                ObjectNode t = arr.addObject();
                t.put("id", newCallId());
                t.put("type", "function");
                t.putObject("function").put("name", call[0]).put("arguments", call[1]);
            }
        }
        return !calls.isEmpty() && rules.callsFinishAsToolCalls() && reason.equals("stop") ? "tool_calls" : reason;
    }

    private Choice choice(int index) { return choices.computeIfAbsent(index, i -> new Choice(rules)); }

    private static List<ObjectNode> deltas(Choice c, List<ChatPiece> pieces) {
        List<ObjectNode> out = new ArrayList<>(pieces.size());
        for (ChatPiece p : pieces) {
            ObjectNode d = Json.object();
            if (p instanceof ChatPiece.Content x) {
                d.put("content", x.text());
            } else if (p instanceof ChatPiece.Reasoning x) {
                d.put("reasoning_content", x.text());
            } else if (p instanceof ChatPiece.CallStart s) {
                while (c.ids.size() <= s.call()) c.ids.add(newCallId());
                ObjectNode t = d.putArray("tool_calls").addObject();
                t.put("index", s.call());
                t.put("id", c.ids.get(s.call()));
                t.put("type", "function");
                t.putObject("function").put("name", s.name()).put("arguments", "");
            } else if (p instanceof ChatPiece.CallArguments a) {
                ObjectNode t = d.putArray("tool_calls").addObject();
                t.put("index", a.call());
                t.putObject("function").put("arguments", a.fragment());
            }
            out.add(d);
        }
        return out;
    }

    /** vLLM's shape of a tool call id. */
    private static String newCallId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "chatcmpl-tool-" + Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }
}

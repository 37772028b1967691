package ai.arbor.http.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * One choice's output text, read as it arrives into reasoning, content and tool calls ({@link ChatPiece}s), by the
 * request's {@link OutputRules}. Streaming sends the pieces of each delta; a whole response reads all the text the
 * same way, so both shapes agree. Not thread-safe: one per choice.
 */
public final class ChatOutputParser {
    private final OutputRules rules;
    private final ReasoningSplitter reasoning;
    private final ToolCallReader tools;
    private int callsSeen;

    ChatOutputParser(OutputRules rules) {
        this.rules = rules;
        this.reasoning = rules.reasoning() == OutputRules.Reasoning.NONE ? null
                : new ReasoningSplitter(rules.reasoning() == OutputRules.Reasoning.DEEPSEEK_R1 || rules.thinkingOpen());
        this.tools = rules.newToolReader();
    }

    /** The pieces that {@code text} completes, consecutive pieces of one kind merged. */
    public List<ChatPiece> feed(String text) {
        List<ChatPiece> raw = new ArrayList<>();
        String content = reasoning == null ? text : reasoning.feed(text, raw);
        if (!content.isEmpty()) tools.feed(content, raw);
        return tidy(raw);
    }

    /** The output ended: the pieces that were held back. */
    public List<ChatPiece> end() {
        List<ChatPiece> raw = new ArrayList<>();
        String content = reasoning == null ? "" : reasoning.end(raw);
        if (!content.isEmpty()) tools.feed(content, raw);
        tools.end(raw);
        return tidy(raw);
    }

    /** How many tool calls were announced so far (after dropping extra calls when parallel calls are off). */
    public int calls() { return callsSeen; }

    private List<ChatPiece> tidy(List<ChatPiece> raw) {
        List<ChatPiece> out = new ArrayList<>(raw.size());
        for (ChatPiece p : raw) {
            if (p instanceof ChatPiece.CallStart s) {
                if (!rules.parallelToolCalls() && s.call() > 0) continue;
                callsSeen = Math.max(callsSeen, s.call() + 1);
            } else if (p instanceof ChatPiece.CallArguments a && !rules.parallelToolCalls() && a.call() > 0) {
                continue;
            }
            ChatPiece last = out.isEmpty() ? null : out.get(out.size() - 1);
            ChatPiece merged = merge(last, p);
            if (merged != null) out.set(out.size() - 1, merged);
            else out.add(p);
        }
        return out;
    }

    private static ChatPiece merge(ChatPiece a, ChatPiece b) {
        if (a instanceof ChatPiece.Content x && b instanceof ChatPiece.Content y) {
            return new ChatPiece.Content(x.text() + y.text());
        }
        if (a instanceof ChatPiece.Reasoning x && b instanceof ChatPiece.Reasoning y) {
            return new ChatPiece.Reasoning(x.text() + y.text());
        }
        if (a instanceof ChatPiece.CallArguments x && b instanceof ChatPiece.CallArguments y && x.call() == y.call()) {
            return new ChatPiece.CallArguments(x.call(), x.fragment() + y.fragment());
        }
        return null;
    }
}

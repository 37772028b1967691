package ai.arbor.http.chat;

import java.util.List;

/**
 * Splits {@code <think>…</think>} reasoning off the front of the output (vLLM's qwen3 and deepseek_r1 parsers): a
 * leading {@code <think>} is dropped, text up to {@code </think>} is reasoning, the rest is content. deepseek_r1
 * output is reasoning from its first token; qwen3 output is when it starts with {@code <think>} or the prompt
 * opened the reasoning (a template that ends its generation prompt with {@code <think>}).
 */
final class ReasoningSplitter {
    static final String OPEN = "<think>";
    static final String CLOSE = "</think>";

    private final StringBuilder pending = new StringBuilder();
    private boolean started;
    private boolean reasoning;

    ReasoningSplitter(boolean reasoningFromStart) { this.reasoning = reasoningFromStart; }

    /**
     * Adds reasoning pieces to {@code out} and returns the text that is past the reasoning (content, for the tool
     * call reader), possibly empty.
     */

    String feed(String text, List<ChatPiece> out) {
        pending.append(text);
        if (!started) {
            int i = 0;
            while (i < pending.length() && Character.isWhitespace(pending.charAt(i))) i++;
            String rest = pending.substring(i);
            if (OPEN.startsWith(rest)) return ""; // could still be <think>: wait
            started = true;
            if (rest.startsWith(OPEN)) {
                pending.delete(0, i + OPEN.length());
                reasoning = true;
            }
        }
        if (!reasoning) return take(pending.length());
        int close = pending.indexOf(CLOSE);
        if (close < 0) {
            int keep = Tags.partialSuffix(pending, CLOSE);
            emit(take(pending.length() - keep), out);
            return "";
        }
        emit(take(close), out);
        pending.delete(0, CLOSE.length());
        reasoning = false;
        return take(pending.length());
    }

    /** The output ended: what was held back goes out, as reasoning if it was being reasoned, else as content. */
    String end(List<ChatPiece> out) {
        if (reasoning) {
            emit(take(pending.length()), out);
            return "";
        }
        return take(pending.length());
    }

    private String take(int n) {
        String s = pending.substring(0, n);
        pending.delete(0, n);
        return s;
    }

    private static void emit(String s, List<ChatPiece> out) {
        if (!s.isEmpty() && out != null) out.add(new ChatPiece.Reasoning(s));
    }
}

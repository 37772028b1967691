package ai.arbor.http.chat;

import java.util.List;

/**
 * Qwen2.5 / Qwen3 / Hermes tool calls: {@code <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>}, one
 * block per call, with plain content around them (vLLM's {@code hermes} parser); the whitespace between and after
 * calls is dropped. A block whose JSON is no call goes out as content, as vLLM's non-streaming parser returns the text
 * unchanged.
 */
final class HermesReader implements ToolCallReader {
    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";

    private final StringBuilder pending = new StringBuilder();
    private boolean inside;
    private CallObject call;
    /** The raw block so far (from its opening tag), for a block that turns out to be no call. */
    private final StringBuilder block = new StringBuilder();
    private int calls;

    @Override
    public void feed(String text, List<ChatPiece> out) {
        pending.append(text);
        while (pending.length() > 0) {
            if (!inside) {
                int at = pending.indexOf(OPEN);
                if (at < 0) {
                    int keep = Tags.partialSuffix(pending, OPEN);
                    String before = pending.substring(0, pending.length() - keep);
                    // whitespace after a call waits: it is dropped if only calls or the end follow
                    if (calls > 0 && before.isBlank()) return;
                    content(before, out);
                    pending.delete(0, pending.length() - keep);
                    return;
                }
                if (calls == 0 || !pending.substring(0, at).isBlank()) content(pending.substring(0, at), out);
                pending.delete(0, at + OPEN.length());
                inside = true;
                call = null;
                block.setLength(0);
                block.append(OPEN);
            } else if (!insideStep(out)) {
                return;
            }
        }
    }

    /** Consumes what it can of a block; false when it needs more text. */
    private boolean insideStep(List<ChatPiece> out) {
        if (call == null || call.complete()) {
            int close = pending.indexOf(CLOSE);
            int brace = call == null ? firstNonSpace(pending) : -1;
            if (call == null && brace >= 0 && pending.charAt(brace) == '{' && (close < 0 || brace < close)) {
                block.append(pending, 0, brace);
                pending.delete(0, brace);
                call = new CallObject(calls);
                return true;
            }
            if (close < 0) {
                int keep = Tags.partialSuffix(pending, CLOSE);
                block.append(pending, 0, pending.length() - keep);
                pending.delete(0, pending.length() - keep);
                return false;
            }
            block.append(pending, 0, close + CLOSE.length());
            pending.delete(0, close + CLOSE.length());
            closeBlock(out);
            return true;
        }
        // feed the call character by character until its object closes
        int i = 0;
        while (i < pending.length() && !call.complete()) {
            char c = pending.charAt(i++);
            block.append(c);
            call.push(c, out);
        }
        pending.delete(0, i);
        return pending.length() > 0 || call.complete();
    }

    private void closeBlock(List<ChatPiece> out) {
        inside = false;
        if (call != null && call.announced()) {
            calls++;
        } else {
            out.add(new ChatPiece.Content(block.toString()));
        }
        call = null;
    }

    private static int firstNonSpace(CharSequence s) {
        for (int i = 0; i < s.length(); i++) if (!Character.isWhitespace(s.charAt(i))) return i;
        return -1;
    }

    private static void content(String s, List<ChatPiece> out) {
        if (!s.isEmpty()) out.add(new ChatPiece.Content(s));
    }

    @Override
    public void end(List<ChatPiece> out) {
        if (inside) {
            block.append(pending);
            pending.setLength(0);
            // a call cut short (max_tokens) keeps what it announced; an unrecognised block is content
            if (call == null || !call.announced()) out.add(new ChatPiece.Content(block.toString()));
            inside = false;
        } else {
            if (calls == 0 || !pending.toString().isBlank()) content(pending.toString(), out);
            pending.setLength(0);
        }
    }
}

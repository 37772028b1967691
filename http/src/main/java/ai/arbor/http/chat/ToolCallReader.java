package ai.arbor.http.chat;

import java.util.List;

/**
 * Reads an assistant's content (after any reasoning) as it arrives and tells plain content from tool calls. One per
 * choice; not thread-safe.
 */
interface ToolCallReader {

    /** Reads more text, adding what it now knows to {@code out}; may hold back text that could start a call. */
    void feed(String text, List<ChatPiece> out);

    /** The output ended: whatever was held back goes out. */
    void end(List<ChatPiece> out);

    /** No tools: everything is content. */
    static ToolCallReader plain() {
        return new ToolCallReader() {
            @Override
            public void feed(String text, List<ChatPiece> out) {
                if (!text.isEmpty()) out.add(new ChatPiece.Content(text));
            }

            @Override
            public void end(List<ChatPiece> out) {}
        };
    }

    /**
     * {@code tool_choice} named a function: the whole output is its arguments (constrained decoding writes them), so
     * the call starts with the first text, as in vLLM.
     */
    static ToolCallReader named(String function) {
        return new ToolCallReader() {
            private boolean started;

            @Override
            public void feed(String text, List<ChatPiece> out) {
                if (!started) {
                    out.add(new ChatPiece.CallStart(0, function));
                    started = true;
                }
                if (!text.isEmpty()) out.add(new ChatPiece.CallArguments(0, text));
            }

            @Override
            public void end(List<ChatPiece> out) {
                if (!started) feed("", out);
            }
        };
    }
}

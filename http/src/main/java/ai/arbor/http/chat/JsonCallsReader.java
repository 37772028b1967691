package ai.arbor.http.chat;

import java.util.List;

/**
 * Tool calls written as bare JSON objects: Llama 3.x's {@code {"name": ..., "parameters": {...}}} (optionally after
 * {@code <|python_tag|>}, several joined by {@code ;}), and the array {@code [{"name": ..., "parameters": ...}, ...]}
 * that {@code tool_choice: "required"} constrains the output to (vLLM's llama3_json parser and its required-choice
 * reading). Output that does not start like a call is plain content, as in vLLM; so is anything after the calls.
 */
final class JsonCallsReader implements ToolCallReader {
    private static final String PYTHON_TAG = "<|python_tag|>";

    private final boolean array;
    private final StringBuilder pending = new StringBuilder();
    private Mode mode = Mode.UNDECIDED;
    private CallObject call;
    private int calls;

    /** DONE: after a required-choice array; the constraint ends the output there, so nothing follows. */
    private enum Mode { UNDECIDED, BETWEEN, CALL, CONTENT, DONE }

    /** @param array the calls come as one JSON array (tool_choice required), not as Llama's ';'-joined objects */
    JsonCallsReader(boolean array) { this.array = array; }

    static JsonCallsReader llama() { return new JsonCallsReader(false); }

    static JsonCallsReader required() { return new JsonCallsReader(true); }

    @Override
    public void feed(String text, List<ChatPiece> out) {
        pending.append(text);
        while (pending.length() > 0) {
            switch (mode) {
                case UNDECIDED -> {
                    if (!decide()) return;
                }
                case BETWEEN -> between(out);
                case CALL -> {
                    int i = 0;
                    while (i < pending.length() && !call.complete()) call.push(pending.charAt(i++), out);
                    pending.delete(0, i);
                    if (call.complete()) {
                        if (call.announced()) calls++;
                        else out.add(new ChatPiece.Content(call.text()));
                        mode = call.announced() ? Mode.BETWEEN : array ? Mode.DONE : Mode.CONTENT;
                    }
                }
                case CONTENT -> {
                    out.add(new ChatPiece.Content(pending.toString()));
                    pending.setLength(0);
                }
                case DONE -> pending.setLength(0);
            }
        }
    }

    /** Whether the output starts like calls; false until enough text has come to tell. */
    private boolean decide() {
        int i = 0;
        while (i < pending.length() && Character.isWhitespace(pending.charAt(i))) i++;
        if (i == pending.length()) return false;
        String rest = pending.substring(i);
        if (!array && PYTHON_TAG.startsWith(rest) && rest.length() < PYTHON_TAG.length()) return false;
        if (!array && rest.startsWith(PYTHON_TAG)) {
            pending.delete(0, i + PYTHON_TAG.length());
            mode = Mode.BETWEEN;
        } else if (rest.charAt(0) == (array ? '[' : '{')) {
            pending.delete(0, array ? i + 1 : i);
            mode = Mode.BETWEEN;
        } else {
            mode = Mode.CONTENT;
        }
        return true;
    }

    /** Skips separators between calls; a '{' starts the next call, anything else is content. */
    private void between(List<ChatPiece> out) {
        int i = 0;
        while (i < pending.length()) {
            char c = pending.charAt(i);
            if (Character.isWhitespace(c) || c == (array ? ',' : ';')) {
                i++;
            } else if (c == '{') {
                call = new CallObject(calls);
                mode = Mode.CALL;
                break;
            } else {
                mode = array ? Mode.DONE : Mode.CONTENT;
                break;
            }
        }
        pending.delete(0, i);
    }

    @Override
    public void end(List<ChatPiece> out) {
        if (mode == Mode.CALL && !call.announced()) out.add(new ChatPiece.Content(call.text()));
        else if (mode == Mode.UNDECIDED || mode == Mode.CONTENT) {
            if (pending.length() > 0) out.add(new ChatPiece.Content(pending.toString()));
        }
        pending.setLength(0);
    }
}

package ai.arbor.http.chat;

/**
 * Finds where one JSON object, array or string ends while its characters arrive one at a time (nesting, strings and
 * escapes tracked), so a tool call's arguments can be streamed without waiting for the whole call.
 */
final class JsonEnd {
    private int depth;
    private boolean inString;
    private boolean escape;

    /** Feeds {@code c}; true when it closes the value that the first character opened. */
    boolean push(char c) {
        if (inString) {
            if (escape) {
                escape = false;
            } else if (c == '\\') {
                escape = true;
            } else if (c == '"') {
                inString = false;
                return depth == 0;
            }
            return false;
        }
        switch (c) {
            case '"' -> inString = true;
            case '{', '[' -> depth++;
            case '}', ']' -> {
                depth--;
                return depth == 0;
            }
            default -> { }
        }
        return false;
    }
}

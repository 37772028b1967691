package ai.arbor.http.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One tool call written as {@code {"name": "...", "arguments": {...}}} (Llama writes {@code "parameters"}), read as
 * its characters arrive: the name is announced as soon as it is complete and the arguments stream as they come, as
 * vLLM's streaming parsers do. A call whose keys come in another order is announced whole when its object closes.
 */
final class CallObject {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HEADER = Pattern.compile(
            "\\s*\\{\\s*\"name\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*");

    private final int call;
    private final StringBuilder text = new StringBuilder();
    private final JsonEnd outer = new JsonEnd();
    private boolean announced;
    private int argsStart = -1;
    private JsonEnd args;
    private boolean argsString;
    private boolean argsDone;
    private boolean complete;

    CallObject(int call) { this.call = call; }

    boolean complete() { return complete; }

    /** Whether the call's name went out (its arguments may still be cut short). */
    boolean announced() { return announced; }

    String text() { return text.toString(); }

    /** Feeds one character of the object (the first must be its '{'). */
    void push(char c, List<ChatPiece> out) {
        text.append(c);
        if (outer.push(c)) complete = true;
        if (!announced && !complete) {
            Matcher m = HEADER.matcher(text);
            if (m.lookingAt() && m.end() < text.length()) {
                out.add(new ChatPiece.CallStart(call, unescape(m.group(1))));
                announced = true;
                argsStart = m.end();
                args = new JsonEnd();
                argsString = text.charAt(argsStart) == '"';
                for (int i = argsStart; i < text.length(); i++) argument(text.charAt(i), out);
            }
            return;
        }
        if (announced && !argsDone) argument(c, out);
        if (complete && !announced) whole(out);
    }

    private void argument(char c, List<ChatPiece> out) {
        if (argsDone) return;
        boolean end = args.push(c);
        if (!argsString) out.add(new ChatPiece.CallArguments(call, String.valueOf(c)));
        if (end) {
            argsDone = true;
            // arguments given as a JSON string: what the string holds is the arguments' JSON
            if (argsString) out.add(new ChatPiece.CallArguments(call, unescape(text.substring(argsStart + 1,
                    text.length() - 1))));
        }
    }

    /** The object closed before its header was recognised: parse it whole, or leave it unannounced if it is no call. */
    private void whole(List<ChatPiece> out) {
        JsonNode node;
        try {
            node = JSON.readTree(text.toString());
        } catch (Exception e) {
            return;
        }
        JsonNode name = node.get("name");
        JsonNode arguments = node.has("arguments") ? node.get("arguments") : node.get("parameters");
        if (name == null || !name.isTextual()) return;
        out.add(new ChatPiece.CallStart(call, name.textValue()));
        announced = true;
        String a = arguments == null || arguments.isNull() ? "{}" : arguments.isTextual() ? arguments.textValue()
                : arguments.toString();
        out.add(new ChatPiece.CallArguments(call, a));
    }

    private static String unescape(String jsonStringBody) {
        try {
            return JSON.readValue("\"" + jsonStringBody + "\"", String.class);
        } catch (Exception e) {
            return jsonStringBody;
        }
    }
}

package ai.arbor.cluster.bench;

import java.util.List;
import java.util.Map;

/**
 * One request of a benchmark. Exactly one of {@code text}, {@code messages} carries the prompt; {@code tokenIds}, when
 * present, is the same prompt as token ids, sent instead of text to the completions route so its length is exact.
 *
 * @param expectedPromptTokens the dataset's own count (content tokens, before any chat template); the report uses the
 *                             server's count from {@code usage}
 * @param group                shared-prefix group, or -1
 */
public record BenchPrompt(String text, List<Map<String, Object>> messages, int[] tokenIds, int expectedPromptTokens,
                          int outputLen, int group) {

    public static BenchPrompt ofText(String text, int[] tokenIds, int outputLen, int group) {
        return new BenchPrompt(text, null, tokenIds, tokenIds == null ? -1 : tokenIds.length, outputLen, group);
    }

    /** The chat messages to send: the conversation itself, or the text as one user message. */
    public List<Map<String, Object>> chatMessages() {
        return messages != null ? messages : List.of(Map.of("role", "user", "content", text));
    }

    /** The prompt for the completions route: token ids when known, else the text (a conversation is flattened). */
    public Object completionPrompt() {
        if (tokenIds != null) {
            return tokenIds;
        }
        if (text != null) {
            return text;
        }
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) {
            sb.append(m.get("content")).append('\n');
        }
        return sb.toString();
    }
}

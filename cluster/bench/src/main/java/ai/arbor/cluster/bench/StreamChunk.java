package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * One server-sent event of an OpenAI streaming response, reduced to what the benchmark measures.
 *
 * @param content      text this chunk adds (chat {@code delta.content} or completions {@code text}); empty if none
 * @param promptTokens from {@code usage}, -1 when the chunk has no usage
 * @param error        the message of an in-stream {@code {"error": ...}} event, else null
 */
public record StreamChunk(boolean done, String content, int promptTokens, int completionTokens, int cachedTokens,
                          String finishReason, String error) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StreamChunk DONE = new StreamChunk(true, "", -1, -1, -1, null, null);

    public boolean hasUsage() { return promptTokens >= 0; }

    /**
     * Parses one line of the stream; returns null for lines that carry no data (blank separators, comments, event
     * names). Throws {@link IllegalArgumentException} for a data line that is not JSON.
     */
    public static StreamChunk parseLine(String line) {
        if (!line.startsWith("data:")) {
            return null;
        }
        String data = line.substring(5).strip();
        if (data.equals("[DONE]")) {
            return DONE;
        }
        JsonNode node;
        try {
            node = JSON.readTree(data);
        } catch (IOException e) {
            throw new IllegalArgumentException("stream data is not JSON: " + abbreviate(data));
        }
        if (node.has("error")) {
            JsonNode err = node.get("error");
            return new StreamChunk(false, "", -1, -1, -1, null,
                    err.isTextual() ? err.asText() : err.path("message").asText(err.toString()));
        }
        StringBuilder content = new StringBuilder();
        String finish = null;
        for (JsonNode choice : node.path("choices")) {
            JsonNode delta = choice.path("delta");
            if (delta.hasNonNull("content")) {
                content.append(delta.get("content").asText());
            }
            if (choice.hasNonNull("text")) {
                content.append(choice.get("text").asText());
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
        }
        JsonNode usage = node.path("usage");
        int prompt = -1, completion = -1, cached = -1;
        if (usage.isObject()) {
            prompt = usage.path("prompt_tokens").asInt(0);
            completion = usage.path("completion_tokens").asInt(0);
            cached = usage.path("prompt_tokens_details").path("cached_tokens").asInt(0);
        }
        return new StreamChunk(false, content.toString(), prompt, completion, cached, finish, null);
    }

    static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }
}

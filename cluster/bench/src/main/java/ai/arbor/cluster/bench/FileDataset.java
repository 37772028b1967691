package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prompts from a JSONL file, one request a line: {@code {"prompt": "..."}}, OpenAI {@code {"messages": [...]}} or
 * ShareGPT {@code {"conversations": [{"from": "human", "value": "..."}, ...]}}; an optional {@code "output_len"} (or
 * {@code "max_tokens"}) overrides {@code --output-len}. A conversation is sent up to its last user turn. The file is
 * cycled when it has fewer lines than the number of prompts asked for.
 */
public final class FileDataset implements Dataset {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final int n;
    private final int outputLen;

    public FileDataset(Path file, int n, int outputLen) {
        this.file = file;
        this.n = n;
        this.outputLen = outputLen;
    }

    @Override
    public List<BenchPrompt> prompts() {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BenchException("dataset file not found: " + file);
        } catch (IOException e) {
            throw new BenchException("cannot read dataset file " + file + ": " + e.getMessage());
        }
        List<BenchPrompt> parsed = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.isEmpty()) {
                parsed.add(parse(line, i + 1));
            }
        }
        if (parsed.isEmpty()) {
            throw new BenchException("dataset file " + file + " has no prompts");
        }
        List<BenchPrompt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(parsed.get(i % parsed.size()));
        }
        return out;
    }

    private BenchPrompt parse(String line, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BenchException(file + " line " + lineNo + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        int out = outputLen;
        for (String key : List.of("output_len", "max_tokens")) {
            if (node.has(key)) {
                out = node.get(key).asInt();
            }
        }
        if (node.isTextual()) {
            return new BenchPrompt(node.asText(), null, null, -1, out, -1);
        }
        if (node.hasNonNull("prompt")) {
            return new BenchPrompt(node.get("prompt").asText(), null, null, -1, out, -1);
        }
        if (node.has("messages") || node.has("conversations")) {
            boolean shareGpt = !node.has("messages");
            List<Map<String, Object>> messages = new ArrayList<>();
            int lastUser = -1;
            for (JsonNode turn : node.get(shareGpt ? "conversations" : "messages")) {
                String role = shareGpt ? shareGptRole(turn.path("from").asText()) : turn.path("role").asText();
                String content = turn.path(shareGpt ? "value" : "content").asText();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("role", role);
                m.put("content", content);
                messages.add(m);
                if (role.equals("user")) {
                    lastUser = messages.size();
                }
            }
            if (lastUser < 0) {
                throw new BenchException(file + " line " + lineNo + ": the conversation has no user turn");
            }
            return new BenchPrompt(null, List.copyOf(messages.subList(0, lastUser)), null, -1, out, -1);
        }
        throw new BenchException(file + " line " + lineNo + ": expected a \"prompt\", \"messages\" or \"conversations\"");
    }

    private static String shareGptRole(String from) {
        return switch (from) {
            case "human", "user" -> "user";
            case "gpt", "assistant", "chatgpt", "bard" -> "assistant";
            case "system" -> "system";
            default -> from;
        };
    }
}

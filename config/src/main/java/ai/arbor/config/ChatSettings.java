package ai.arbor.config;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code arbor.chat}: how chat output is read back into API fields, as vLLM's {@code --tool-call-parser},
 * {@code --reasoning-parser} and {@code --chat-template} flags.
 *
 * @param toolCallParser  {@code auto} (from the model's chat template), {@code hermes}, {@code llama3_json} or {@code none}
 * @param reasoningParser empty for none (vLLM's default), {@code qwen3} or {@code deepseek_r1}
 * @param chatTemplate    a Jinja file that replaces the model's chat template, if given
 */
public record ChatSettings(String toolCallParser, String reasoningParser, Optional<Path> chatTemplate) {
    public static final Set<String> TOOL_CALL_PARSERS = Set.of("auto", "hermes", "llama3_json", "none");
    public static final Set<String> REASONING_PARSERS = Set.of("", "qwen3", "deepseek_r1");

    static ChatSettings from(Config c) {
        String tools = c.getString("tool-call-parser").trim().toLowerCase(Locale.ROOT);
        if (!TOOL_CALL_PARSERS.contains(tools)) {
            throw new IllegalArgumentException("arbor.chat.tool-call-parser must be one of auto, hermes, llama3_json, "
                    + "none, got '" + tools + "'");
        }
        String reasoning = c.getString("reasoning-parser").trim().toLowerCase(Locale.ROOT);
        if (!REASONING_PARSERS.contains(reasoning)) {
            throw new IllegalArgumentException("arbor.chat.reasoning-parser must be empty, qwen3 or deepseek_r1, got '"
                    + reasoning + "'");
        }
        String template = c.getString("chat-template").trim();
        Optional<Path> file = template.isEmpty() ? Optional.empty() : Optional.of(Path.of(template));
        if (file.isPresent() && !Files.isRegularFile(file.get())) {
            throw new IllegalArgumentException("arbor.chat.chat-template: no such file: " + template);
        }
        return new ChatSettings(tools, reasoning, file);
    }

    /** The defaults: tool calls parsed as the model's template suggests, no reasoning split, the model's template. */
    public static ChatSettings defaults() { return new ChatSettings("auto", "", Optional.empty()); }
}

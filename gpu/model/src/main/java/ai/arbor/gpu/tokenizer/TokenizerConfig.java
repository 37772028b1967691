package ai.arbor.gpu.tokenizer;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The parts of {@code tokenizer_config.json} we use: special token strings, explicit BOS/EOS switches and the chat
 * template. The file is optional (an absent file means "nothing explicit").
 *
 * @param addBosToken  null when the file does not say (then tokenizer.json's post-processor decides)
 * @param chatTemplate null when absent; a list of named templates resolves to the one named "default"
 */
public record TokenizerConfig(Path file, String bosToken, String eosToken, String padToken, String unkToken,
                              Boolean addBosToken, Boolean addEosToken, String chatTemplate) {
    public static final String FILE = "tokenizer_config.json";

    public static TokenizerConfig load(Path dir) {
        Path file = dir.resolve(FILE);
        JsonNode root = JsonFiles.readOptional(file);
        if (root == null) return new TokenizerConfig(file, null, null, null, null, null, null, null);
        if (!root.isObject()) throw new ModelLoadException(file, null, "expected a JSON object");
        JsonFiles.Fields f = new JsonFiles.Fields(file, root);
        Boolean addBos = f.has("add_bos_token") ? f.optBool("add_bos_token", false) : null;
        Boolean addEos = f.has("add_eos_token") ? f.optBool("add_eos_token", false) : null;
        return new TokenizerConfig(file, token(f, "bos_token"), token(f, "eos_token"), token(f, "pad_token"),
                token(f, "unk_token"), addBos, addEos, template(f));
    }

    /** A special token given either as its text or as an AddedToken object with a {@code content} field. */
    private static String token(JsonFiles.Fields f, String field) {
        JsonNode v = f.get(field);
        if (v == null) return null;
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.hasNonNull("content") && v.get("content").isTextual()) return v.get("content").asText();
        throw new ModelLoadException(f.file(), field, "expected a token string or {\"content\": ...}, got " + v);
    }

    private static String template(JsonFiles.Fields f) {
        JsonNode v = f.get("chat_template");
        if (v == null) return null;
        if (v.isTextual()) return v.asText();
        if (v.isArray()) {
            for (JsonNode t : v) {
                if (t.isObject() && "default".equals(t.path("name").asText(null)) && t.path("template").isTextual())
                    return t.get("template").asText();
            }
            throw new ModelLoadException(f.file(), "chat_template", "list of templates has none named 'default'");
        }
        throw new ModelLoadException(f.file(), "chat_template", "expected a string or a list of {name, template}");
    }

    public Optional<String> bos() { return Optional.ofNullable(bosToken); }
}

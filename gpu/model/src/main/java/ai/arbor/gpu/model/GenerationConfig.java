package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Sampling defaults from {@code generation_config.json}; null where the file (or the field) says nothing, so the
 * request's own values and the engine's defaults can be layered over it.
 */
public record GenerationConfig(Double temperature, Double topP, Integer topK, Double repetitionPenalty,
                               int[] eosTokenIds, Integer bosTokenId) {
    public static final String FILE = "generation_config.json";
    public static final GenerationConfig EMPTY = new GenerationConfig(null, null, null, null, new int[0], null);

    /** The directory's generation config, or {@link #EMPTY} when the optional file is absent. */
    public static GenerationConfig load(Path dir) {
        Path file = dir.resolve(FILE);
        JsonNode root = JsonFiles.readOptional(file);
        if (root == null) return EMPTY;
        if (!root.isObject()) throw new ModelLoadException(file, null, "expected a JSON object");
        JsonFiles.Fields f = new JsonFiles.Fields(file, root);
        Double temperature = f.optBoxedDouble("temperature");
        Double topP = f.optBoxedDouble("top_p");
        Integer topK = f.has("top_k") ? f.requireInt("top_k") : null;
        Double rep = f.optBoxedDouble("repetition_penalty");
        Integer bos = f.has("bos_token_id") ? f.requireInt("bos_token_id") : null;
        // do_sample=false means greedy in transformers, whatever temperature says.
        if (!f.optBool("do_sample", true) && f.has("do_sample")) temperature = 0.0;
        return new GenerationConfig(temperature, topP, topK, rep, tokenIds(f, "eos_token_id"), bos);
    }

    /** A token id field that may be an int or a list of ints (eos_token_id in config.json and here). */
    public static int[] tokenIds(JsonFiles.Fields f, String field) {
        JsonNode v = f.get(field);
        if (v == null) return new int[0];
        if (v.isArray()) {
            int[] ids = new int[v.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!v.get(i).isIntegralNumber())
                    throw new ModelLoadException(f.file(), field, "expected token ids, got " + v);
                ids[i] = v.get(i).asInt();
            }
            return ids;
        }
        if (!v.isIntegralNumber()) throw new ModelLoadException(f.file(), field, "expected a token id or a list, got " + v);
        return new int[]{v.asInt()};
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationConfig g && java.util.Objects.equals(temperature, g.temperature)
                && java.util.Objects.equals(topP, g.topP) && java.util.Objects.equals(topK, g.topK)
                && java.util.Objects.equals(repetitionPenalty, g.repetitionPenalty)
                && Arrays.equals(eosTokenIds, g.eosTokenIds) && java.util.Objects.equals(bosTokenId, g.bosTokenId);
    }

    @Override
    public int hashCode() { return Arrays.hashCode(eosTokenIds) * 31 + java.util.Objects.hash(temperature, topP, topK); }

    @Override
    public String toString() {
        return "GenerationConfig[temperature=" + temperature + ", topP=" + topP + ", topK=" + topK
                + ", repetitionPenalty=" + repetitionPenalty + ", eosTokenIds=" + Arrays.toString(eosTokenIds)
                + ", bosTokenId=" + bosTokenId + "]";
    }
}

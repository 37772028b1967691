package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * The sizes OpenAI's {@code dimensions} may shorten a model's embeddings to. Only a model trained for it (Matryoshka
 * representation learning) keeps a vector's meaning in its leading components; its {@code config.json} says so as
 * vLLM reads it: {@code "is_matryoshka": true} (any size up to the full one) or {@code "matryoshka_dimensions"}
 * (those sizes only). Any other model returns full-size vectors only.
 *
 * @param full    the full size (the model's hidden size); 0 when unknown
 * @param allowed the sizes it may be shortened to; null: any from 1 to {@code full}; empty: none
 */
public record EmbeddingDimensions(int full, int[] allowed) {
    /** A model that is not known to be trained for shortened vectors. */
    public static final EmbeddingDimensions FULL_ONLY = new EmbeddingDimensions(0, new int[0]);

    public static EmbeddingDimensions of(HfModel model) {
        Path file = model.dir().resolve("config.json");
        JsonNode root = JsonFiles.read(file);
        int full = model.config().hiddenSize();
        JsonNode dims = root.get("matryoshka_dimensions");
        if (dims != null && !dims.isNull()) {
            if (!dims.isArray() || dims.isEmpty()) {
                throw new ModelLoadException(file, "matryoshka_dimensions", "expected a non-empty list of sizes");
            }
            int[] sizes = new int[dims.size()];
            for (int i = 0; i < sizes.length; i++) {
                JsonNode d = dims.get(i);
                if (!d.isIntegralNumber() || d.asInt() < 1 || d.asInt() > full) {
                    throw new ModelLoadException(file, "matryoshka_dimensions", "sizes must be between 1 and the hidden "
                            + "size " + full + ", got " + d);
                }
                sizes[i] = d.asInt();
            }
            return new EmbeddingDimensions(full, sizes);
        }
        return new EmbeddingDimensions(full, root.path("is_matryoshka").asBoolean(false) ? null : new int[0]);
    }

    /** Why vectors of size {@code d} are not served, or empty when they are. */
    public Optional<String> refusal(int d) {
        if (allowed != null && allowed.length == 0) {
            return Optional.of("the model is not trained for shortened vectors (no Matryoshka representation); it "
                    + "returns full-size embeddings only");
        }
        if (d < 1 || d > full) return Optional.of("'dimensions' must be between 1 and " + full + ", got " + d);
        if (allowed != null && Arrays.stream(allowed).noneMatch(a -> a == d)) {
            return Optional.of("the model is trained for " + Arrays.toString(allowed) + " dimensions only, got " + d);
        }
        return Optional.empty();
    }
}

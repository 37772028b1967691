package ai.arbor.gpu.engine;

import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.protocol.Pooling;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The pooling a model directory declares in sentence-transformers' {@code 1_Pooling/config.json}. */
public final class PoolingConfig {
    private PoolingConfig() {}

    /** {@link Pooling#LAST} (vLLM's default for decoder models) when the directory declares none. */
    public static Pooling read(Path modelDir) {
        Path file = modelDir.resolve("1_Pooling").resolve("config.json");
        if (!Files.isRegularFile(file)) return Pooling.LAST;
        try {
            JsonNode c = new ObjectMapper().readTree(file.toFile());
            if (c.path("pooling_mode_lasttoken").asBoolean(false)) return Pooling.LAST;
            if (c.path("pooling_mode_mean_tokens").asBoolean(false)) return Pooling.MEAN;
            if (c.path("pooling_mode_cls_token").asBoolean(false)) return Pooling.CLS;
            throw new ModelLoadException(file, null, "no pooling mode Arbor supports (lasttoken, mean_tokens, cls_token)");
        } catch (IOException e) {
            throw new ModelLoadException(file, null, "unreadable pooling config: " + e.getMessage(), e);
        }
    }
}

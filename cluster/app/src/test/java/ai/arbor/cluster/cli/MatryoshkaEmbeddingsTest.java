package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dimensions} on a model whose config.json declares {@code matryoshka_dimensions} (tiny-qwen2's files, that
 * declaration added): a listed size gives the full vector's first components made unit length again, through
 * {@code arbor serve} and the official SDK; an unlisted size is a 400 naming {@code dimensions}.
 */
class MatryoshkaEmbeddingsTest {
    @TempDir
    Path dir;

    @Test
    void listedSizesShortenTheVectorOthersAre400() throws Exception {
        Path tiny = Path.of("..", "..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        try (Stream<Path> files = Files.list(tiny)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().equals("config.json")) Files.createSymbolicLink(dir.resolve(f.getFileName()), f);
            }
        }
        ObjectMapper m = new ObjectMapper();
        ObjectNode config = (ObjectNode) m.readTree(tiny.resolve("config.json").toFile());
        config.putArray("matryoshka_dimensions").add(64).add(128);
        m.writeValue(dir.resolve("config.json").toFile(), config);
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", dir.toString(), "arbor.port", 0,
                "arbor.served-model-name", "m", "arbor.engine.kv-cache-memory", "16MiB"), null, Map.of()));
        try (ServeCommand.Running running = ServeCommand.start(s)) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(running.node().url() + "/v1").apiKey("unused")
                    .maxRetries(0).build();
            try {
                List<Float> full = ChatFeaturesTinyModelTest.vector(client.embeddings().create(
                        EmbeddingCreateParams.builder().model("m").input("You will travel far.").build()), 0);
                List<Float> short64 = ChatFeaturesTinyModelTest.vector(client.embeddings().create(
                        EmbeddingCreateParams.builder().model("m").input("You will travel far.").dimensions(64).build()), 0);
                assertEquals(256, full.size());
                assertEquals(64, short64.size());
                double norm = Math.sqrt(full.subList(0, 64).stream().mapToDouble(x -> x * x).sum());
                for (int i = 0; i < 64; i++) assertEquals(full.get(i) / norm, short64.get(i), 1e-6, "component " + i);
                BadRequestException other = assertThrows(BadRequestException.class, () -> client.embeddings().create(
                        EmbeddingCreateParams.builder().model("m").input("x").dimensions(100).build()));
                assertEquals("dimensions", other.param().orElseThrow());
                assertTrue(other.getMessage().contains("[64, 128]"), other.getMessage());
            } finally {
                client.close();
            }
        }
    }
}

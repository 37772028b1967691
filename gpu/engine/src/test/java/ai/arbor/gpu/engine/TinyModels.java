package ai.arbor.gpu.engine;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The repository's tiny models, loaded once per JVM, and their transformers reference outputs. */
final class TinyModels {
    private static final Map<String, HfModel> LOADED = new ConcurrentHashMap<>();

    private TinyModels() {}

    /** {@code models/<name>} found from the module's or the repository's directory. */
    static Path dir(String name) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("models").resolve(name);
            if (Files.isRegularFile(candidate.resolve("config.json"))) return candidate;
        }
        throw new IllegalStateException("models/" + name + " not found above " + Path.of("").toAbsolutePath());
    }

    static HfModel model(String name) {
        return LOADED.computeIfAbsent(name, n -> HfModel.load(dir(n)));
    }

    /** An engine on the real CPU backend (2 threads: CI machines have two cores). */
    static LLMEngine engine(String name, EngineConfig config) {
        HfModel m = model(name);
        return new LLMEngine(m, new CpuBackend(m.config(), m.weights(), 2), config);
    }

    record Case(String name, String kind, int[] promptIds, int[] generatedIds) {}

    static List<Case> reference(String name) {
        try (InputStream in = TinyModels.class.getResourceAsStream("/reference/" + name + ".json")) {
            if (in == null) throw new IllegalStateException("no reference/" + name + ".json on the test classpath");
            JsonNode root = new ObjectMapper().readTree(in);
            List<Case> out = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                out.add(new Case(c.get("name").asText(), c.get("kind").asText(), ints(c.get("prompt_ids")),
                        ints(c.get("generated_ids"))));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}

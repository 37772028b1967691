package ai.arbor.actors.router;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.arbor.gpu.model.HfModel;
import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's tiny Qwen2 model, found from the module's or the repository's directory. */
public final class TinyQwen2 {
    private TinyQwen2() {}

    public static HfModel load() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models/tiny-qwen2"))) dir = dir.getParent();
        assumeTrue(dir != null, "models/tiny-qwen2 not found");
        return HfModel.load(dir.resolve("models/tiny-qwen2"));
    }
}

package ai.arbor.structured;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The tiny models' vocabularies, read once per JVM from {@code models/} above the working directory. */
final class Vocabularies {
    private static final Map<String, TokenVocabulary> LOADED = new ConcurrentHashMap<>();

    private Vocabularies() {}

    static Path repoFile(String relative) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(relative))) return d.resolve(relative);
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }

    static TokenVocabulary of(String model) {
        return LOADED.computeIfAbsent(model, m -> TokenVocabulary.load(repoFile("models/" + m)));
    }
}

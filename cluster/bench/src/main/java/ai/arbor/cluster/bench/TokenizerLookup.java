package ai.arbor.cluster.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Which tokenizer shapes the random prompts: {@code --tokenizer DIR} if given, else the served model's own, found
 * from the name the server gives it ({@code /v1/models}): the name itself as a directory, then
 * {@code models/<name>} under the Arbor checkout ({@code -Darbor.home}, which {@code bin/arbor} sets) or the working
 * directory. Prompts of N tokens must be N tokens of the model under test, so no other model's tokenizer is ever
 * taken silently: when none is found the benchmark stops and says so.
 */
final class TokenizerLookup {
    private TokenizerLookup() {}

    static Path find(String servedModel, Path explicit) {
        if (explicit != null) return explicit;
        Set<Path> candidates = new LinkedHashSet<>();
        candidates.add(Path.of(servedModel));
        String last = Path.of(servedModel).getFileName() == null ? servedModel : Path.of(servedModel).getFileName().toString();
        String home = System.getProperty("arbor.home");
        for (Path base : home == null || home.isBlank() ? new Path[]{Path.of("")} : new Path[]{Path.of(home), Path.of("")}) {
            candidates.add(base.resolve("models").resolve(servedModel));
            candidates.add(base.resolve("models").resolve(last));
        }
        for (Path c : candidates) {
            if (Files.isRegularFile(c.resolve("tokenizer.json"))) return c.toAbsolutePath().normalize();
        }
        throw new BenchException("no tokenizer found for model '" + servedModel + "' (looked in " + candidates
                + "): pass --tokenizer with the model's directory");
    }
}

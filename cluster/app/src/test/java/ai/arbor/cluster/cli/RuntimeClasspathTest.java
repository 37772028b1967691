package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What {@code bin/arbor} launches with (target/arbor.classpath, written by the build from the compile and runtime
 * scopes) holds no test library and no development tool: those belong to test scope or to modules outside the
 * application (gpu/tools, cluster/overhead).
 */
class RuntimeClasspathTest {
    static final Pattern NOT_FOR_PRODUCTION = Pattern.compile(
            "(junit-|opentest4j|archunit|openai-java|okhttp|kotlin-|.*-testkit|jmh-|arbor-gpu-tools|arbor-cluster-overhead)"
                    + ".*");

    static List<String> jars() throws Exception {
        Path file = Path.of("target", "arbor.classpath");
        assertTrue(Files.isRegularFile(file), file.toAbsolutePath() + " missing: the build writes it before the tests");
        return Arrays.stream(Files.readString(file).strip().split(File.pathSeparator))
                .map(p -> Path.of(p).getFileName().toString()).toList();
    }

    @Test
    void holdsTheApplication() throws Exception {
        List<String> jars = jars();
        // Arbor's own modules appear as jars or, in a build that stops before package, as target/classes
        for (String needed : new String[] {"picocli", "pekko-actor-typed_2.13", "pekko-http_2.13", "jcuda",
                "jinjava", "jetcd-core", "logback-classic"}) {
            assertTrue(jars.stream().anyMatch(j -> j.startsWith(needed)),
                    needed + " missing from " + jars);
        }
    }

    @Test
    void holdsNoTestLibraryOrTool() throws Exception {
        assertEquals(List.of(), jars().stream().filter(j -> NOT_FOR_PRODUCTION.matcher(j).matches()).toList());
    }

    @Test
    void thePatternCatchesTestLibraries() {
        for (String jar : new String[] {"junit-jupiter-api-5.14.4.jar", "openai-java-core-4.8.0.jar",
                "okhttp-4.12.0.jar", "kotlin-stdlib-1.8.0.jar", "pekko-actor-testkit-typed_2.13-1.2.1.jar",
                "pekko-testkit_2.13-1.2.1.jar", "arbor-gpu-tools-0.1.0-SNAPSHOT.jar"}) {
            assertTrue(NOT_FOR_PRODUCTION.matcher(jar).matches(), jar);
        }
    }
}

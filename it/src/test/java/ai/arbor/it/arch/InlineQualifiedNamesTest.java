package ai.arbor.it.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Main sources name Arbor's classes through imports, never inline ({@code ai.arbor.x.Y.call()} in a method body), so
 * that a file's imports list every package it depends on.
 */
class InlineQualifiedNamesTest {
    static final Pattern QUALIFIED = Pattern.compile("\\bai\\.arbor\\.[a-z0-9_.]+\\.[A-Z]\\w*");
    static final Pattern STRING = Pattern.compile("\"(?:\\\\.|[^\"\\\\])*\"");

    @Test
    void noInlineQualifiedArborNames() throws IOException {
        List<Path> sources = mainSources(Path.of("").toAbsolutePath().getParent());
        assertTrue(sources.size() > 200, "found only " + sources.size() + " main sources");
        List<String> found = new ArrayList<>();
        for (Path file : sources) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                String code = code(lines.get(i));
                Matcher m = QUALIFIED.matcher(code);
                if (m.find()) found.add(file + ":" + (i + 1) + ": " + m.group());
            }
        }
        assertEquals(List.of(), found, "import these instead");
    }

    @Test
    void findsAnInlineName() {
        assertTrue(QUALIFIED.matcher(code("  ai.arbor.actors.metrics.RouterMetrics.overhead(m, 1);")).find());
        assertTrue(!QUALIFIED.matcher(code("import ai.arbor.actors.metrics.RouterMetrics;")).find());
        assertTrue(!QUALIFIED.matcher(code("  run(\"ai.arbor.cluster.cli.ArborCli\"); // ai.arbor.x.Y")).find());
    }

    /** The line without imports, package declarations, comments and string literals. */
    static String code(String line) {
        String t = line.strip();
        if (t.startsWith("import ") || t.startsWith("package ") || t.startsWith("*") || t.startsWith("/*")
                || t.startsWith("//")) return "";
        t = STRING.matcher(t).replaceAll("\"\"");
        int comment = t.indexOf("//");
        return comment < 0 ? t : t.substring(0, comment);
    }

    static List<Path> mainSources(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().contains("/src/main/java/") && !p.toString().contains("/target/"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

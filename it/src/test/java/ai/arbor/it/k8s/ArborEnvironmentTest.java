package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.EnvironmentVariables;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every environment variable the manifests give an Arbor container is one Arbor reads: the ARBOR_* table
 * ({@link EnvironmentVariables}), a {@code ${?VAR}} in one of Arbor's reference.conf files, or one the image's
 * launcher reads. A misspelt variable would otherwise be ignored without a word.
 */
class ArborEnvironmentTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;
    private static final Pattern OPTIONAL_SUBSTITUTION = Pattern.compile("\\$\\{\\?([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern SHELL_VARIABLE = Pattern.compile("\\$\\{?([A-Z_][A-Z0-9_]*)");

    @TempDir
    Path dir;

    /** Variable name to the HOCON paths it sets through a reference.conf {@code ${?VAR}}. */
    static Map<String, Set<String>> referenceConfVariables() throws IOException {
        Map<String, Set<String>> vars = new LinkedHashMap<>();
        for (URL url : Collections.list(ArborEnvironmentTest.class.getClassLoader().getResources("reference.conf"))) {
            String text;
            try (InputStream in = url.openStream()) { text = new String(in.readAllBytes(), StandardCharsets.UTF_8); }
            Matcher matcher = OPTIONAL_SUBSTITUTION.matcher(text);
            Map<String, Object> probes = new HashMap<>();
            while (matcher.find()) probes.put(matcher.group(1), "probe-" + matcher.group(1));
            if (probes.isEmpty() || !text.contains("arbor")) continue;
            // resolve the file against probe values only, then see which paths took which probe
            Config resolved = ConfigFactory.parseMap(probes).withFallback(ConfigFactory.parseURL(url))
                    .resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true));
            probes.keySet().forEach(v -> vars.computeIfAbsent(v, k -> new LinkedHashSet<>()));
            resolved.entrySet().forEach(e -> {
                Object value = e.getValue().unwrapped();
                if (value instanceof String s && s.startsWith("probe-") && probes.containsKey(s.substring(6))) {
                    vars.get(s.substring(6)).add(e.getKey());
                }
            });
        }
        return vars;
    }

    /** Variables the image's launcher (k8s/image/arbor) reads itself. */
    static Set<String> launcherVariables() throws IOException {
        Set<String> vars = new LinkedHashSet<>();
        Matcher m = SHELL_VARIABLE.matcher(Files.readString(Kustomize.repoRoot().resolve("k8s/image/arbor")));
        while (m.find()) vars.add(m.group(1));
        return vars;
    }

    static Set<String> variablesArborReads() throws IOException {
        Set<String> known = new LinkedHashSet<>(EnvironmentVariables.MAPPING.keySet());
        known.addAll(referenceConfVariables().keySet());
        known.addAll(launcherVariables());
        return known;
    }

    static Map<String, JsonNode> envOfArborContainers(Manifests m) {
        Map<String, JsonNode> env = new LinkedHashMap<>();
        for (JsonNode c : m.arborContainers()) {
            for (JsonNode e : c.path("env")) env.put(e.path("name").asText(), e);
            assertTrue(c.path("envFrom").isMissingNode(), "envFrom would hide which variables are set: list them under env");
        }
        return env;
    }

    @Test
    void theKnownVariablesAreFoundWhereArborDefinesThem() throws IOException {
        Set<String> known = variablesArborReads();
        assertTrue(known.containsAll(EnvironmentVariables.MAPPING.keySet()));
        assertTrue(launcherVariables().contains("ARBOR_JAVA_OPTS"), "the launcher reads ARBOR_JAVA_OPTS");
        assertFalse(known.contains("ARBOR_NO_SUCH_SETTING"));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyVariableTheManifestsSetIsOneArborReads(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        Set<String> known = variablesArborReads();
        Map<String, JsonNode> env = envOfArborContainers(m);
        assertFalse(env.isEmpty(), overlay + ": Arbor containers get no environment at all");
        List<String> unknown = env.keySet().stream().filter(v -> !known.contains(v)).toList();
        assertTrue(unknown.isEmpty(), overlay + ": Arbor reads none of " + unknown + "; it reads " + known);
    }

    /**
     * A variable known only through a reference.conf {@code ${?VAR}} is outranked by the mounted application.conf, so
     * that file must leave its path unset (variables in the EnvironmentVariables table outrank the file).
     */
    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void theConfigFileDoesNotShadowTheVariables(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        Config file = ConfigFactory.parseString(ArborConfigMapTest.arborConfigMap(m).path("data").path("application.conf").asText());
        Map<String, Set<String>> fromReference = referenceConfVariables();
        List<String> shadowed = new ArrayList<>();
        for (String var : envOfArborContainers(m).keySet()) {
            if (EnvironmentVariables.MAPPING.containsKey(var)) continue;
            for (String path : fromReference.getOrDefault(var, Set.of())) {
                if (file.hasPath(path)) shadowed.add(var + " (" + path + ")");
            }
        }
        assertTrue(shadowed.isEmpty(), overlay + ": application.conf sets what these variables should set: " + shadowed);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void nodesAreGivenTheMountedConfigFile(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        for (JsonNode c : m.arborContainers()) {
            List<String> args = c.path("args").valueStream().map(JsonNode::asText).toList();
            int at = args.indexOf("--config");
            assertTrue(!args.isEmpty() && args.get(0).equals("node") && at > 0 && at + 1 < args.size(),
                    overlay + ": container " + c.path("name").asText() + " should run `node --config FILE`: " + args);
            Path mounted = Path.of(args.get(at + 1)).getParent();
            boolean mountedThere = c.path("volumeMounts").valueStream()
                    .anyMatch(v -> v.path("name").asText().equals("config") && Path.of(v.path("mountPath").asText()).equals(mounted));
            assertTrue(mountedThere, overlay + ": " + args.get(at + 1) + " is not where the config volume is mounted");
        }
    }
}

package ai.arbor.it.k8s;

import ai.arbor.it.support.Which;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Renders k8s/ overlays with {@code kubectl kustomize} (offline, no API server) into plain JSON trees. */
final class Kustomize {
    private Kustomize() {}

    static final List<String> OVERLAYS = List.of("lab", "production", "multi-gpu");

    private static final Map<String, Manifests> RENDERED = new ConcurrentHashMap<>();

    /** The repository root: the nearest parent directory with k8s/base. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("k8s/base/kustomization.yaml"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("k8s/base/kustomization.yaml not found above " + Path.of("").toAbsolutePath());
        return dir;
    }

    /** Skips the calling test (rather than failing it) where kubectl is not installed. */
    static String kubectl() {
        Assumptions.assumeTrue(Which.available("kubectl"),
                "kubectl not found on PATH: install Debian's kubernetes-client to render and validate the k8s/ overlays");
        return Which.find("kubectl", "kubernetes-client");
    }

    static Manifests overlay(String name) {
        String kubectl = kubectl();
        return RENDERED.computeIfAbsent(name, n -> new Manifests(n, parse(render(kubectl, repoRoot().resolve("k8s/overlays/" + n)))));
    }

    static String render(String kubectl, Path dir) {
        try {
            Process p = new ProcessBuilder(kubectl, "kustomize", dir.toString()).redirectErrorStream(false).start();
            byte[] out = p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kubectl kustomize " + dir + " did not finish in 60 s");
            }
            if (p.exitValue() != 0) throw new IllegalStateException("kubectl kustomize " + dir + " failed: " + err);
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + kubectl, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static List<JsonNode> parse(String yaml) {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(yaml)) {
            for (var it = mapper.readValues(parser, JsonNode.class); it.hasNext(); ) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isEmpty()) docs.add(doc);
            }
        } catch (IOException e) {
            throw new IllegalStateException("kubectl kustomize printed YAML that does not parse", e);
        }
        return docs;
    }
}

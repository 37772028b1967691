package ai.arbor.it.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** docs/architecture.md's module table names every Maven module and, for each, the Arbor modules its pom depends on. */
class ModuleDocTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Pattern ROW = Pattern.compile("^\\| `([a-z/]+)` \\|.*\\| ([^|]*)\\|$");
    static final Pattern NAME = Pattern.compile("`([a-z/]+)`");

    @Test
    void theModuleTableMatchesThePoms() throws Exception {
        Map<String, Set<String>> poms = pomDependencies();
        assertTrue(poms.keySet().containsAll(List.of("gpu/engine", "cluster/app", "it")), poms.keySet().toString());
        assertEquals(poms, documented());
    }

    /** Leaf modules (jar, not pom packaging) and their compile-scope dependencies on other Arbor modules. */
    static Map<String, Set<String>> pomDependencies() throws Exception {
        Map<String, String> pathOfArtifact = new TreeMap<>();
        Map<String, Element> pomOf = new TreeMap<>();
        List<String> queue = new ArrayList<>(List.of(""));
        while (!queue.isEmpty()) {
            String dir = queue.remove(0);
            Element pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(ROOT.resolve(dir).resolve("pom.xml").toFile()).getDocumentElement();
            NodeList modules = pom.getElementsByTagName("module");
            for (int i = 0; i < modules.getLength(); i++) {
                queue.add(dir.isEmpty() ? modules.item(i).getTextContent() : dir + "/" + modules.item(i).getTextContent());
            }
            if (modules.getLength() == 0) {
                pathOfArtifact.put(child(pom, "artifactId"), dir);
                pomOf.put(dir, pom);
            }
        }
        Map<String, Set<String>> deps = new TreeMap<>();
        pomOf.forEach((dir, pom) -> {
            Set<String> on = new TreeSet<>();
            Element dependencies = (Element) pom.getElementsByTagName("dependencies").item(0);
            NodeList list = dependencies == null ? null : dependencies.getElementsByTagName("dependency");
            for (int i = 0; list != null && i < list.getLength(); i++) {
                Element d = (Element) list.item(i);
                String scope = child(d, "scope");
                if ("ai.arbor".equals(child(d, "groupId")) && (scope == null || scope.equals("compile"))) {
                    on.add(pathOfArtifact.getOrDefault(child(d, "artifactId"), "?" + child(d, "artifactId")));
                }
            }
            deps.put(dir, on);
        });
        return deps;
    }

    static Map<String, Set<String>> documented() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("docs/architecture.md"));
        int from = lines.indexOf("## Modules");
        assertTrue(from >= 0, "no '## Modules' section");
        Map<String, Set<String>> deps = new TreeMap<>();
        for (String line : lines.subList(from, lines.size())) {
            if (line.startsWith("## ") && !line.equals("## Modules")) break;
            Matcher row = ROW.matcher(line);
            if (!row.matches()) continue;
            Set<String> on = new TreeSet<>();
            Matcher name = NAME.matcher(row.group(2));
            while (name.find()) on.add(name.group(1));
            deps.put(row.group(1), on);
        }
        return deps;
    }

    private static String child(Element e, String tag) {
        for (var n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(tag)) return c.getTextContent().trim();
        }
        return null;
    }
}

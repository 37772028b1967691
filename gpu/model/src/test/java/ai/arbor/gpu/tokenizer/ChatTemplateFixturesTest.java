package ai.arbor.gpu.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Our Jinjava rendering against Python jinja2's (tools/render_chat_templates.py writes fixtures.json), character for
 * character. With ARBOR_TEMPLATE_DEBUG set, each mismatching rendering is also written to target/tpl-*.txt.
 */
class ChatTemplateFixturesTest {
    static final Path DIR = Path.of("src/test/resources/templates");

    record Fixture(String template, String name, String bos_token, String eos_token,
                   List<Map<String, Object>> messages, boolean add_generation_prompt, Map<String, Object> extra,
                   String expected, String error) {}

    @TestFactory
    Stream<DynamicTest> rendersLikeJinja2() throws IOException {
        List<Fixture> fixtures = new ObjectMapper().readValue(DIR.resolve("fixtures.json").toFile(),
                new TypeReference<>() {});
        assertTrue(fixtures.size() > 60);
        return fixtures.stream().map(f -> DynamicTest.dynamicTest(f.template() + " / " + f.name(), () -> {
            ChatTemplate t = new ChatTemplate(Files.readString(DIR.resolve(f.template())), f.bos_token(), f.eos_token());
            String got;
            try {
                got = t.render(f.messages(), f.add_generation_prompt(), f.extra());
            } catch (ChatTemplateException e) {
                got = null;
                assertEquals(f.error(), e.getMessage(), "raise_exception message");
            }
            if (f.error() != null) {
                assertNull(got, "jinja2 raised '" + f.error() + "' but we rendered");
                return;
            }
            if (System.getenv("ARBOR_TEMPLATE_DEBUG") != null && !f.expected().equals(got))
                Files.writeString(Path.of("target", "tpl-" + f.template() + "-" + f.name() + ".txt"), String.valueOf(got));
            assertEquals(f.expected(), got);
        }));
    }
}

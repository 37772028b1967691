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

/** Our Jinjava rendering against Python jinja2's (tools/render_chat_templates.py), character for character. */
class ChatTemplateFixturesTest {
    static final Path DIR = Path.of("src/test/resources/templates");

    record Fixture(String template, String name, String bos_token, String eos_token,
                   List<Map<String, Object>> messages, boolean add_generation_prompt, Map<String, Object> extra,
                   String expected, String error) {}

    @TestFactory
    Stream<DynamicTest> rendersLikeJinja2() throws IOException {
        List<Fixture> fixtures = new ObjectMapper().readValue(DIR.resolve("fixtures.json").toFile(),
                new TypeReference<>() {});
        assertTrue(fixtures.size() > 40);
        return fixtures.stream().map(f -> DynamicTest.dynamicTest(f.template() + " / " + f.name(), () -> {
            ChatTemplate t = new ChatTemplate(Files.readString(DIR.resolve(f.template())), f.bos_token(), f.eos_token());
            if (f.error() != null) {
                if (System.getenv("ARBOR_TEMPLATE_DEBUG") != null) {
                    try {
                        Files.writeString(Path.of("target", "tpl-" + f.template() + "-" + f.name() + ".txt"),
                                t.render(f.messages(), f.add_generation_prompt(), f.extra()));
                    } catch (ChatTemplateException ignored) { /* the expected outcome */ }
                }
                ChatTemplateException e = assertThrows(ChatTemplateException.class,
                        () -> t.render(f.messages(), f.add_generation_prompt(), f.extra()));
                assertEquals(f.error(), e.getMessage());
            } else {
                String got;
                try {
                    got = t.render(f.messages(), f.add_generation_prompt(), f.extra());
                } catch (RuntimeException e) {
                    got = "EXCEPTION " + e;
                }
                if (System.getenv("ARBOR_TEMPLATE_DEBUG") != null && !got.equals(f.expected()))
                    Files.writeString(Path.of("target", "tpl-" + f.template() + "-" + f.name() + ".txt"), got);
                assertEquals(f.expected(), got);
            }
        }));
    }
}

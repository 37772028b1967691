package ai.arbor.gpu.tokenizer;

import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.model.TestCheckpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ChatTemplateTest {
    private static final List<Map<String, Object>> HI = List.of(Map.of("role", "user", "content", "Hi"));

    @Test
    void raiseExceptionSurfacesTheTemplatesMessage() {
        ChatTemplate t = new ChatTemplate("{% if messages[0].role != 'system' %}"
                + "{{ raise_exception('Conversation must start with a system message, got ' + messages[0].role) }}"
                + "{% endif %}ok", null, null);
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(HI, true, Map.of()));
        assertEquals("Conversation must start with a system message, got user", e.getMessage());
        assertEquals("ok", t.render(List.of(Map.of("role", "system", "content", "s")), true, null));
    }

    @Test
    void brokenTemplateIsAnError() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> new ChatTemplate("{% for m in messages %}{{ m.content }}", null, null));
        assertTrue(e.getMessage().startsWith("chat template failed") && e.getMessage().contains("endfor"), e.getMessage());
        ChatTemplate t = new ChatTemplate("{{ messages[0].content.nosuchmethod() }}", null, null);
        e = assertThrows(ChatTemplateException.class, () -> t.render(HI, true, Map.of()));
        assertTrue(e.getMessage().startsWith("chat template failed"), e.getMessage());
    }

    @Test
    void strftimeNow() {
        ChatTemplate t = new ChatTemplate("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %A %B %%') }}", null, null);
        ZonedDateTime now = ZonedDateTime.now();
        String expected = now.format(DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH)) + "|"
                + now.format(DateTimeFormatter.ofPattern("yyyy-MM-dd EEEE MMMM", Locale.ENGLISH)) + " %";
        assertEquals(expected, t.render(HI, false, null));
    }

    @Test
    void specialTokenVariablesAndGenerationPrompt() {
        ChatTemplate t = new ChatTemplate("{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]"
                + "{{ eos_token }}{% endfor %}{% if add_generation_prompt %}>{% endif %}\n", "<s>", "</s>");
        assertEquals("<s>[user:Hi]</s>>", t.render(HI, true, null), "one trailing newline dropped, like jinja2");
        assertEquals("<s>[user:Hi]</s>", t.render(HI, false, null));
        ChatTemplate noBos = new ChatTemplate("{{ bos_token }}|{{ eos_token }}", null, null);
        assertEquals("|", noBos.render(HI, false, null));
    }

    @Test
    void concurrentRendersAndEncodesAgree() throws Exception {
        ChatTemplate t = new ChatTemplate(Files.readString(ChatTemplateFixturesTest.DIR.resolve("qwen2.5-instruct.jinja")),
                null, "<|im_end|>");
        try (HfTokenizer tok = HfTokenizer.load(TestCheckpoints.tokenizerDir("bytelevel-chatml"))) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    final int n = i;
                    results.add(pool.submit(() -> {
                        List<Map<String, Object>> msgs = List.of(Map.of("role", "user", "content", "message " + n + " 你好🙂"));
                        String expected = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                                + "assistant.<|im_end|>\n<|im_start|>user\nmessage " + n + " 你好🙂<|im_end|>\n"
                                + "<|im_start|>assistant\n";
                        for (int k = 0; k < 20; k++) {
                            String text = t.render(msgs, true, null);
                            if (!text.equals(expected) || !tok.decode(tok.encodeNoSpecial(text), false).equals(expected))
                                return false;
                        }
                        return true;
                    }));
                }
                for (var f : results) assertTrue(f.get());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void pythonFloatRepr() {
        assertEquals("1.0", PythonJson.floatRepr(1.0));
        assertEquals("0.1", PythonJson.floatRepr(0.1));
        assertEquals("0.0001", PythonJson.floatRepr(0.0001));
        assertEquals("1e-05", PythonJson.floatRepr(0.00001));
        assertEquals("1e+16", PythonJson.floatRepr(1e16));
        assertEquals("1234567890123456.0", PythonJson.floatRepr(1234567890123456.0));
        assertEquals("-2.5e-07", PythonJson.floatRepr(-2.5e-7));
        assertEquals("1.7976931348623157e+308", PythonJson.floatRepr(Double.MAX_VALUE));
        assertEquals("-0.0", PythonJson.floatRepr(-0.0));
        assertEquals("NaN", PythonJson.floatRepr(Double.NaN));
        assertEquals("100.0", PythonJson.floatRepr(100.0));
        assertEquals("123456789.123", PythonJson.floatRepr(123456789.123));
    }

    @Test
    void templateFromModelDirectory(@TempDir Path dir) throws IOException {
        Path m = TestCheckpoints.write(dir.resolve("m"), TestCheckpoints.qwen2Config(648), "bytelevel-chatml", 3);
        try (HfModel model = HfModel.load(m)) {
            assertNull(model.chatTemplate(), "the test tokenizer has no template: a base model");
        }
        Files.writeString(m.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"<|im_end|>\", \"chat_template\": \"A{{ messages[0].content }}{{ eos_token }}\"}");
        try (HfModel model = HfModel.load(m)) {
            assertEquals("AHi<|im_end|>", model.chatTemplate().render(HI, false, null));
        }
        Files.writeString(m.resolve("chat_template.jinja"), "J{{ messages[0].content }}\n");
        try (HfModel model = HfModel.load(m)) {
            assertEquals("JHi", model.chatTemplate().render(HI, false, null), "chat_template.jinja wins");
        }
        Files.writeString(m.resolve("chat_template.jinja"), "{% if x %}unclosed");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("chat_template.jinja") && e.getMessage().contains("endif"), e.getMessage());
        Files.delete(m.resolve("chat_template.jinja"));
        Files.writeString(m.resolve("tokenizer_config.json"), "{\"chat_template\": \"{% for %}\"}");
        e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
        assertEquals("chat_template", e.field());
    }
}

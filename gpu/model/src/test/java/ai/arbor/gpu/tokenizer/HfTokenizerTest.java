package ai.arbor.gpu.tokenizer;

import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.model.TestCheckpoints;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class HfTokenizerTest {
    static HfTokenizer chatml;
    static HfTokenizer bos;

    @BeforeAll
    static void load() {
        chatml = HfTokenizer.load(TestCheckpoints.tokenizerDir("bytelevel-chatml"));
        bos = HfTokenizer.load(TestCheckpoints.tokenizerDir("bytelevel-bos"));
    }

    @AfterAll
    static void close() {
        chatml.close();
        bos.close();
    }

    @Test
    void roundTrips() {
        for (String s : new String[]{"Hello world!", "The quick brown fox jumps over the lazy dog.",
                "你好，世界！", "Grüße 🙂👍🏽 emoji", "  leading and trailing spaces  ", "line\nbreaks\n\n\tand tabs",
                "unseen words: zyxwvut qqq", ""}) {
            int[] ids = chatml.encode(s);
            assertEquals(s, chatml.decode(ids, true), "round trip of " + s);
            assertEquals(s, bos.decode(bos.encodeNoSpecial(s), false));
        }
    }

    @Test
    void idsOnlyEncodingEqualsDjlsFullEncoding() throws IOException {
        assertTrue(IdsOnlyEncoder.direct(), "DJL's text preparation is reachable");
        String[] texts = {"Hello world!", "你好，世界！", "Grüße 🙂👍🏽 emoji", "  spaces  ", "line\nbreaks\n\n\tand tabs", "",
                "<|im_start|>user\nHi<|im_end|>\n", "ÀÉÎõü ß Straße"};
        java.util.List<HfTokenizer> all = new java.util.ArrayList<>(java.util.List.of(chatml, bos));
        for (String model : new String[] {"tiny-qwen2", "tiny-llama"}) {
            Path dir = Path.of(System.getProperty("user.dir")).getParent().resolveSibling("models").resolve(model);
            if (Files.isRegularFile(dir.resolve(HfTokenizer.FILE))) all.add(HfTokenizer.load(dir));
        }
        for (HfTokenizer t : all) {
            for (String s : texts) assertArrayEquals(t.encodeNoSpecialThroughDjl(s), t.encodeNoSpecial(s), s);
        }
    }

    @Test
    void mergesApply() {
        int[] ids = chatml.encodeNoSpecial("the the the");
        assertTrue(ids.length < "the the the".length(), "BPE merges shorten " + Arrays.toString(ids));
        assertEquals(chatml.tokenId("Ġthe").getAsInt(), ids[ids.length - 1], "byte-level vocabulary strings");
    }

    @Test
    void longInputIsNotTruncated() {
        String s = "The quick brown fox jumps over the lazy dog. ".repeat(200);
        int[] ids = chatml.encode(s);
        assertTrue(ids.length > 1000, "DJL's default would cut at 512: " + ids.length);
        assertEquals(s, chatml.decode(ids, true));
    }

    @Test
    void specialTokens() {
        assertEquals(648, chatml.vocabSize());
        assertEquals(647, chatml.tokenId("<|im_end|>").getAsInt());
        assertEquals(646, chatml.tokenId("<|im_start|>").getAsInt());
        assertTrue(chatml.tokenId("<|nope|>").isEmpty());
        assertEquals(3, chatml.specialTokens().size());
        assertTrue(chatml.isSpecial(647));
        assertFalse(chatml.isSpecial(100));
        assertTrue(chatml.bosTokenId().isEmpty(), "Qwen-style: no BOS token");
        assertEquals(647, chatml.eosTokenId().getAsInt());

        int[] ids = chatml.encode("<|im_start|>user\nhi<|im_end|>");
        assertEquals(646, ids[0], "special tokens in text are recognised");
        assertEquals(647, ids[ids.length - 1]);
        assertEquals("<|im_start|>user\nhi<|im_end|>", chatml.decode(ids, false));
        assertEquals("user\nhi", chatml.decode(ids, true));
        assertEquals("<|im_start|>", chatml.token(646));
    }

    @Test
    void bosFromPostProcessor() {
        int bosId = bos.tokenId("<|begin_of_text|>").getAsInt();
        assertEquals(bosId, bos.bosTokenId().getAsInt());
        int[] withBos = bos.encode("Hello world");
        int[] plain = bos.encodeNoSpecial("Hello world");
        assertEquals(bosId, withBos[0], "Llama-3-style TemplateProcessing adds BOS");
        assertArrayEquals(plain, Arrays.copyOfRange(withBos, 1, withBos.length));
        assertArrayEquals(chatml.encodeNoSpecial("Hello world"), chatml.encode("Hello world"), "ChatML adds nothing");
    }

    @Test
    void tokenizerConfigOverridesPostProcessor(@TempDir Path dir) throws IOException {
        TestCheckpoints.copyTokenizer("bytelevel-bos", dir);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": \"<|eot_id|>\", \"add_bos_token\": false}");
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertArrayEquals(t.encodeNoSpecial("Hello"), t.encode("Hello"));
        }
        TestCheckpoints.copyTokenizer("bytelevel-chatml", dir);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": {\"content\": \"<|endoftext|>\", \"special\": true}, \"add_bos_token\": true}");
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertEquals(645, t.encode("Hello")[0]);
            assertEquals(645, t.bosTokenId().getAsInt());
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"add_bos_token\": true}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfTokenizer.load(dir));
        assertEquals("add_bos_token", e.field());
        assertTrue(e.getMessage().contains("tokenizer_config.json"));
    }

    @Test
    void chatTemplateListPicksDefault(@TempDir Path dir) throws IOException {
        TestCheckpoints.copyTokenizer("bytelevel-chatml", dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertEquals("D", t.config().chatTemplate());
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "T"}]}""");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfTokenizer.load(dir));
        assertEquals("chat_template", e.field());
    }

    @Test
    void badTokenizerJson(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfTokenizer.load(dir));
        assertEquals("model.vocab", e.field());
        assertTrue(e.getMessage().contains("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\", \"vocab\": {\"a\": 0}}}");
        e = assertThrows(ModelLoadException.class, () -> HfTokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }
}

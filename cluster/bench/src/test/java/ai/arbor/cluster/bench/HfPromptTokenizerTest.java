package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfPromptTokenizerTest {
    /** A word-level tokenizer.json with 1000 words, an unknown token and one special token. */
    static Path wordLevelTokenizer(Path dir) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        ObjectNode special = root.putArray("added_tokens").addObject();
        special.put("id", 1001).put("content", "<|end|>").put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        model.put("unk_token", "[UNK]");
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("[UNK]", 0);
        String[] syl = {"ba", "de", "fi", "go", "hu", "ja", "ke", "li", "mo", "nu"};
        int id = 1;
        for (String a : syl) {
            for (String b : syl) {
                for (String c : syl) {
                    vocab.put(a + b + c, id++);
                }
            }
        }
        vocab.put("<|end|>", 1001);
        Path file = dir.resolve("tokenizer.json");
        json.writeValue(file.toFile(), root);
        return dir;
    }

    @Test
    void loadsVocabularyAndSpecialTokens(@TempDir Path dir) throws Exception {
        try (HfPromptTokenizer tok = HfPromptTokenizer.load(wordLevelTokenizer(dir))) {
            assertEquals(1002, tok.vocabSize());
            assertFalse(tok.isOrdinary(1001), "special tokens never go into random prompts");
            assertFalse(tok.isOrdinary(0), "[UNK] is not a word piece");
            assertTrue(tok.isOrdinary(1));
            int[] ids = tok.encode("badefi gogogo");
            assertEquals(2, ids.length);
            assertArrayEquals(ids, tok.encode(tok.decode(ids)));
        }
    }

    @Test
    void randomPromptsOfExactLengthThroughARealTokenizer(@TempDir Path dir) throws Exception {
        try (HfPromptTokenizer tok = HfPromptTokenizer.load(wordLevelTokenizer(dir))) {
            List<BenchPrompt> prompts = new RandomDataset(tok, 5, 64, 8, 1).prompts();
            for (BenchPrompt p : prompts) {
                assertEquals(64, p.tokenIds().length);
                assertEquals(64, tok.encode(p.text()).length);
            }
        }
    }

    @Test
    void missingTokenizerIsAClearError(@TempDir Path dir) {
        BenchException e = assertThrows(BenchException.class, () -> HfPromptTokenizer.load(dir));
        assertTrue(e.getMessage().startsWith("no tokenizer.json in"), e.getMessage());
    }
}

package ai.arbor.structured;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Token bytes against the Hugging Face tokenizer's own encodings of awkward strings (reference files). */
class TokenVocabularyTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-llama"})
    void tokenBytesSpellTheEncodedText(String model) throws Exception {
        TokenVocabulary vocab = Vocabularies.of(model);
        JsonNode ref = new ObjectMapper().readTree(Vocabularies.repoFile("gpu/model/src/test/resources/reference/" + model + ".json").toFile());
        int checked = 0;
        for (JsonNode c : ref.get("tokenizer_cases")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            boolean special = false;
            for (JsonNode id : c.get("ids_no_special")) {
                byte[] b = vocab.bytes(id.asInt());
                if (b == null) special = true;
                else out.writeBytes(b);
            }
            if (special) continue;
            assertEquals(c.get("text").asText(), out.toString(StandardCharsets.UTF_8), "ids " + c.get("ids_no_special"));
            checked++;
        }
        assertEquals(true, checked >= 5, "too few reference cases: " + checked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-llama"})
    void everyByteIsATokenAndSpecialsHaveNoBytes(String model) {
        TokenVocabulary vocab = Vocabularies.of(model);
        boolean[] single = new boolean[256];
        for (int t = 0; t < vocab.size(); t++) {
            byte[] b = vocab.bytes(t);
            if (b != null && b.length == 1) single[b[0] & 0xFF] = true;
        }
        for (int b = 0; b < 256; b++) assertEquals(true, single[b], "no token for byte " + b);
        assertNull(vocab.bytes(2046), "<|im_start|>/<|im_end|> are special");
        assertNotNull(vocab.bytes(0));
        assertArrayEquals("!".getBytes(StandardCharsets.UTF_8), vocab.bytes(0));
        assertArrayEquals(" is".getBytes(StandardCharsets.UTF_8), vocab.bytes(300));
    }
}

package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.tokenizer.IncrementalDetokenizer;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The committed tiny models (models/tiny-*) load, and our tokenizer and chat template reproduce exactly what
 * transformers produced for them (gpu/model/src/test/resources/reference/*.json).
 */
class TinyModelsLoadTest {
    static final Path MODELS = Path.of("..", "..", "models");
    static final Path REFERENCE = Path.of("src/test/resources/reference");

    static JsonNode reference(String model) throws IOException {
        return JsonFiles.MAPPER.readTree(REFERENCE.resolve(model + ".json").toFile());
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    @Test
    void tinyQwen2Config() {
        try (HfModel m = HfModel.load(MODELS.resolve("tiny-qwen2"))) {
            ModelConfig c = m.config();
            assertEquals(new ModelConfig(Architecture.QWEN2, 2048, 256, 704, 4, 8, 2, 32, 2048, 1e-6, 1e6,
                    RopeScaling.DEFAULT, true, true, false, DType.BF16), c);
            assertEquals(0.7, m.generation().temperature());
            assertEquals(0.8, m.generation().topP());
            assertEquals(20, m.generation().topK());
            assertEquals(1.05, m.generation().repetitionPenalty());
            assertArrayEquals(new int[]{2046, 2044}, m.generation().eosTokenIds());
            assertTrue(m.tokenizer().bosTokenId().isEmpty());
            assertEquals(2047, m.tokenizer().vocabSize(), "2044 BPE tokens + 3 specials; config pads to 2048");
            assertEquals(2046, m.tokenizer().tokenId("<|im_end|>").getAsInt());
            assertNotNull(m.chatTemplate());
            assertFalse(m.weights().contains("lm_head.weight"));
            assertArrayEquals(new long[]{256}, m.weights().tensor("model.layers.3.self_attn.q_proj.bias").shape());
        }
    }

    @Test
    void tinyLlamaConfig() {
        try (HfModel m = HfModel.load(MODELS.resolve("tiny-llama"))) {
            assertEquals(new ModelConfig(Architecture.LLAMA, 2048, 256, 768, 4, 8, 4, 32, 2048, 1e-5, 5e5,
                    new RopeScaling("llama3", 8.0, 1.0, 4.0, 256), false, false, false, DType.BF16), m.config());
            assertEquals(0.6, m.generation().temperature());
            assertEquals(0.9, m.generation().topP());
            assertNull(m.generation().topK());
            assertEquals(2044, m.tokenizer().bosTokenId().getAsInt());
            assertArrayEquals(new long[]{2048, 256}, m.weights().tensor("lm_head.weight").shape());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-llama"})
    void tokenizerAndTemplateMatchTransformers(String name) throws IOException {
        JsonNode ref = reference(name);
        try (HfModel m = HfModel.load(MODELS.resolve(name))) {
            int[] eos = m.eosTokenIds().clone();
            Arrays.sort(eos);
            int[] refEos = ints(ref.get("eos_token_ids"));
            Arrays.sort(refEos);
            assertArrayEquals(refEos, eos, "EOS ids");
            if (ref.get("bos_token_id").isNull()) assertTrue(m.tokenizer().bosTokenId().isEmpty());
            else assertEquals(ref.get("bos_token_id").asInt(), m.tokenizer().bosTokenId().getAsInt());

            int chats = 0;
            for (JsonNode c : ref.get("cases")) {
                String label = name + " " + c.get("name").asText();
                String text;
                int[] prompt;
                if (c.get("kind").asText().equals("chat")) {
                    List<Map<String, Object>> messages = JsonFiles.MAPPER.convertValue(c.get("messages"),
                            new TypeReference<>() {});
                    text = m.chatTemplate().render(messages, true, Map.of());
                    assertEquals(c.get("text").asText(), text, label + ": rendered chat");
                    prompt = m.tokenizer().encodeNoSpecial(text);
                    chats++;
                } else {
                    text = c.get("text").asText();
                    prompt = m.tokenizer().encode(text);
                }
                assertArrayEquals(ints(c.get("prompt_ids")), prompt, label + ": prompt ids");
                int[] generated = ints(c.get("generated_ids"));
                assertEquals(c.get("generated_text").asText(), m.tokenizer().decode(generated, false), label);
                assertEquals(c.get("generated_text_skip_special").asText(), m.tokenizer().decode(generated, true), label);
                IncrementalDetokenizer d = new IncrementalDetokenizer(m.tokenizer(), prompt);
                StringBuilder streamed = new StringBuilder();
                for (int id : generated) streamed.append(d.push(id));
                streamed.append(d.flush());
                assertEquals(c.get("generated_text_skip_special").asText(), streamed.toString(), label + ": streamed");
            }
            assertTrue(chats >= 4);

            for (JsonNode t : ref.get("tokenizer_cases")) {
                String text = t.get("text").asText();
                assertArrayEquals(ints(t.get("ids")), m.tokenizer().encode(text), "encode " + text);
                assertArrayEquals(ints(t.get("ids_no_special")), m.tokenizer().encodeNoSpecial(text), "no special " + text);
                assertEquals(t.get("decoded").asText(), m.tokenizer().decode(ints(t.get("ids_no_special")), false));
                assertEquals(t.get("decoded_skip_special").asText(), m.tokenizer().decode(ints(t.get("ids")), true));
            }
        }
    }
}

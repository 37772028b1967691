package ai.arbor.gpu.model;

import ai.arbor.gpu.files.ModelLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class HfModelTest {
    @TempDir
    Path dir;

    private static final int CHATML_VOCAB = 648; // 645 BPE entries + 3 ChatML special tokens (645..647)

    private Path qwen2() {
        return TestCheckpoints.write(dir.resolve("m"), TestCheckpoints.qwen2Config(CHATML_VOCAB), "bytelevel-chatml", 1);
    }

    @Test
    void loadsACompleteDirectory() throws IOException {
        Path m = qwen2();
        Files.writeString(m.resolve("generation_config.json"), """
                {"do_sample": true, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05,
                 "eos_token_id": [645, 647], "bos_token_id": 645}""");
        try (HfModel model = HfModel.load(m)) {
            assertEquals(m, model.dir());
            assertEquals(Architecture.QWEN2, model.config().architecture());
            assertEquals(CHATML_VOCAB, model.config().vocabSize());
            assertEquals(0.7, model.generation().temperature());
            assertEquals(0.8, model.generation().topP());
            assertEquals(20, model.generation().topK());
            assertEquals(1.05, model.generation().repetitionPenalty());
            assertArrayEquals(new int[]{645, 647}, model.generation().eosTokenIds());
            assertArrayEquals(new int[]{645, 647}, model.eosTokenIds(), "config, generation and tokenizer EOS, deduplicated");
            assertEquals(CHATML_VOCAB, model.tokenizer().vocabSize());
            Tensor embed = model.weights().tensor("model.embed_tokens.weight");
            assertArrayEquals(new long[]{CHATML_VOCAB, 32}, embed.shape());
            assertEquals(DType.BF16, embed.dtype());
            assertFalse(model.weights().contains("lm_head.weight"), "tied embeddings");
        }
    }

    @Test
    void generationConfigOptionalAndScalarEos() throws IOException {
        Path m = qwen2();
        try (HfModel model = HfModel.load(m)) {
            assertNull(model.generation().temperature());
            assertEquals(0, model.generation().eosTokenIds().length);
            assertArrayEquals(new int[]{645, 647}, model.eosTokenIds(), "config.json 645 + tokenizer <|im_end|> 647");
        }
        Files.writeString(m.resolve("generation_config.json"), "{\"eos_token_id\": 646, \"do_sample\": false}");
        try (HfModel model = HfModel.load(m)) {
            assertArrayEquals(new int[]{646}, model.generation().eosTokenIds());
            assertEquals(0.0, model.generation().temperature(), "do_sample=false means greedy");
            assertArrayEquals(new int[]{645, 646, 647}, model.eosTokenIds());
        }
    }

    @Test
    void missingTensorNamesFileAndTensor() throws IOException {
        Path m = qwen2();
        ModelConfig c = ConfigParser.parse(m.resolve("config.json"));
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (WeightLayout.Spec s : WeightLayout.required(c)) {
            if (s.name().equals("model.layers.1.mlp.up_proj.weight")) continue;
            long n = 1;
            for (long d : s.shape()) n *= d;
            w.add(s.name(), DType.BF16, s.shape(), new float[(int) n]);
        }
        w.write(m.resolve("model.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertEquals("model.layers.1.mlp.up_proj.weight", e.field());
    }

    @Test
    void misshapenTensor() throws IOException {
        Path m = qwen2();
        ModelConfig c = ConfigParser.parse(m.resolve("config.json"));
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (WeightLayout.Spec s : WeightLayout.required(c)) {
            long[] shape = s.name().equals("model.layers.0.self_attn.k_proj.weight") ? new long[]{32, 32} : s.shape();
            long n = 1;
            for (long d : shape) n *= d;
            w.add(s.name(), DType.BF16, shape, new float[(int) n]);
        }
        w.write(m.resolve("model.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertEquals("model.layers.0.self_attn.k_proj.weight", e.field());
        assertTrue(e.getMessage().contains("[32, 32]") && e.getMessage().contains("[16, 32]"), e.getMessage());
    }

    @Test
    void untiedNeedsLmHead() throws IOException {
        Path m = qwen2();
        Files.writeString(m.resolve("config.json"),
                TestCheckpoints.qwen2Config(CHATML_VOCAB).replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertEquals("lm_head.weight", e.field());
    }

    @Test
    void missingFilesNameTheFile() throws IOException {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfModel.load(dir.resolve("absent")));
        assertTrue(e.getMessage().contains("absent"));

        Path m = qwen2();
        Files.delete(m.resolve("tokenizer.json"));
        e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("not found"), e.getMessage());

        Files.delete(m.resolve("config.json"));
        e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void malformedJsonNamesTheFile() throws IOException {
        Path m = qwen2();
        Files.writeString(m.resolve("generation_config.json"), "{\"temperature\": 0.7,,}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("generation_config.json") && e.getMessage().contains("malformed JSON"));

        Files.writeString(m.resolve("generation_config.json"), "{\"temperature\": \"hot\"}");
        e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertEquals("temperature", e.field());

        Files.delete(m.resolve("generation_config.json"));
        Files.writeString(m.resolve("tokenizer_config.json"), "{\"chat_template\": 42}");
        e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("tokenizer_config.json"));
        assertEquals("chat_template", e.field());

        Files.writeString(m.resolve("tokenizer.json"), "[1, 2");
        e = assertThrows(ModelLoadException.class, () -> HfModel.load(m));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("malformed JSON"));
    }
}

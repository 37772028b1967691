package ai.arbor.gpu.model;

import ai.arbor.gpu.files.ModelLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ConfigParserTest {
    @TempDir
    Path dir;

    private ModelConfig parse(String json) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        return ConfigParser.parse(f);
    }

    private ModelLoadException fails(String json) {
        return assertThrows(ModelLoadException.class, () -> parse(json));
    }

    @Test
    void qwen2ClassicLayout() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
                 "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
                 "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
                 "rope_scaling": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16"}""");
        assertEquals(Architecture.QWEN2, c.architecture());
        assertEquals(64, c.headDim());
        assertEquals(2, c.numKvHeads());
        assertEquals(128, c.kvDim());
        assertEquals(896, c.qDim());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertEquals(RopeScaling.DEFAULT, c.ropeScaling());
        assertTrue(c.tieWordEmbeddings());
        assertTrue(c.attentionBias(), "Qwen2 always has q/k/v biases");
        assertFalse(c.qkNorm());
        assertEquals(DType.BF16, c.dtype());
        assertEquals(1e-6, c.rmsNormEps());
    }

    @Test
    void llamaClassicLlama3Scaling() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
                 "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                 "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                 "attention_bias": false, "mlp_bias": false, "torch_dtype": "bfloat16", "tie_word_embeddings": false}""");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(128, c.headDim());
        assertEquals(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(500000.0, c.ropeTheta());
        assertFalse(c.attentionBias());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(1e-5, c.rmsNormEps());
    }

    @Test
    void transformers5Layout() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000,
                 "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                   "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                 "dtype": "float16", "tie_word_embeddings": true}""");
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(DType.F16, c.dtype());
        assertTrue(c.tieWordEmbeddings());

        ModelConfig d = parse("""
                {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}, "dtype": "float32"}""");
        assertEquals(1_000_000.0, d.ropeTheta());
        assertEquals(RopeScaling.DEFAULT, d.ropeScaling());
        assertEquals(DType.F32, d.dtype());
    }

    @Test
    void defaultsFollowTransformers() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}""");
        assertEquals(4, c.numKvHeads(), "num_key_value_heads defaults to num_attention_heads");
        assertEquals(16, c.headDim(), "head_dim defaults to hidden/heads");
        assertFalse(c.tieWordEmbeddings(), "LlamaConfig defaults tie_word_embeddings to False");
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertEquals(DType.BF16, c.dtype());

        ModelConfig q = parse("""
                {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}""");
        assertFalse(q.tieWordEmbeddings(), "Qwen2Config defaults tie_word_embeddings to False");
        assertEquals(32768, q.maxPositionEmbeddings());
    }

    @Test
    void qwen3ExplicitHeadDimAndQkNorm() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["Qwen3ForCausalLM"], "hidden_size": 1024, "intermediate_size": 3072,
                 "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
                 "vocab_size": 151936, "rope_theta": 1000000, "attention_bias": false, "tie_word_embeddings": true,
                 "torch_dtype": "bfloat16"}""");
        assertEquals(Architecture.QWEN3, c.architecture());
        assertEquals(128, c.headDim());
        assertEquals(2048, c.qDim(), "Qwen3 q width differs from hidden_size");
        assertTrue(c.qkNorm());
        assertFalse(c.attentionBias());
    }

    @Test
    void errorsNameFileAndField() {
        String base = """
                "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                "vocab_size": 1000""";
        ModelLoadException e = fails("{\"architectures\": [\"MistralForCausalLM\"], " + base + "}");
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        assertEquals("architectures", e.field());
        assertTrue(e.getMessage().contains("MistralForCausalLM"));

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base
                + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}");
        assertEquals("rope_scaling.rope_type", e.field());
        assertTrue(e.getMessage().contains("yarn"));

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base
                + ", \"rope_parameters\": {\"rope_type\": \"dynamic\", \"rope_theta\": 10000}}");
        assertEquals("rope_parameters.rope_type", e.field());

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base
                + ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
                + " \"high_freq_factor\": 4.0}}");
        assertEquals("rope_scaling.original_max_position_embeddings", e.field());

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"torch_dtype\": \"float8_e4m3fn\"}");
        assertEquals("torch_dtype", e.field());
        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"dtype\": \"int8\"}");
        assertEquals("dtype", e.field());

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64}");
        assertEquals("num_attention_heads", e.field());
        assertTrue(e.getMessage().contains("missing"));

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"num_key_value_heads\": 3}");
        assertEquals("num_key_value_heads", e.field());

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base.replace("64", "\"64\"") + "}");
        assertEquals("hidden_size", e.field());

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ", \"attention_bias\": true}");
        assertEquals("attention_bias", e.field());

        e = fails("{\"architectures\": [\"LlamaForCausalLM\"], " + base + ",}");
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("malformed JSON"), e.getMessage());
    }

    @Test
    void missingConfigFile() {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ConfigParser.parse(dir.resolve("config.json")));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("not found"), e.getMessage());
    }
}

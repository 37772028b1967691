package ai.arbor.gpu.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Builds complete, loadable model directories for tests: config.json, random BF16 weights of the right shapes, and a
 * copy of one of the small byte-level BPE tokenizers under src/test/resources/tokenizers.
 */
public final class TestCheckpoints {
    private TestCheckpoints() {}

    /** A tiny Qwen2 config.json (classic layout) with the vocabulary of the bytelevel-chatml test tokenizer. */
    public static String qwen2Config(int vocab) {
        return """
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 32,
                 "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "vocab_size": %d, "max_position_embeddings": 512, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
                 "rope_scaling": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "hidden_act": "silu",
                 "use_sliding_window": false, "bos_token_id": %d, "eos_token_id": %d}
                """.formatted(vocab, vocab - 3, vocab - 3);
    }

    /** Writes {@code config} and matching random weights, plus the named test tokenizer; returns {@code dir}. */
    public static Path write(Path dir, String configJson, String tokenizer, long seed) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), configJson);
            ModelConfig c = ConfigParser.parse(dir.resolve("config.json"));
            weights(c, seed).write(dir.resolve(SafeTensorsWeights.SINGLE));
            copyTokenizer(tokenizer, dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static SafeTensorsWriter weights(ModelConfig c, long seed) {
        Random r = new Random(seed);
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (WeightLayout.Spec s : WeightLayout.required(c)) {
            long n = 1;
            for (long d : s.shape()) n *= d;
            float[] v = new float[(int) n];
            boolean norm = s.name().endsWith("norm.weight");
            for (int i = 0; i < v.length; i++) v[i] = norm ? 1f + 0.1f * (float) r.nextGaussian() : 0.02f * (float) r.nextGaussian();
            w.add(s.name(), DType.BF16, s.shape(), v);
        }
        return w;
    }

    public static Path tokenizerDir(String name) {
        Path p = Path.of("src/test/resources/tokenizers", name);
        if (!Files.isDirectory(p)) throw new IllegalStateException("no test tokenizer " + p.toAbsolutePath());
        return p;
    }

    public static void copyTokenizer(String name, Path dir) throws IOException {
        Path src = tokenizerDir(name);
        try (var files = Files.list(src)) {
            for (Path f : (Iterable<Path>) files::iterator)
                Files.copy(f, dir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

package ai.arbor.gpu.bench;

import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.RopeScaling;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a Hugging Face model directory (config.json, model.safetensors, tokenizer files copied from another model)
 * with random BF16 weights of a given shape, so decode speed can be measured on a realistic size without downloading
 * a checkpoint. The weights are uniform noise scaled like a trained model's, so activations stay finite.
 */
public final class RandomCheckpoint {
    private RandomCheckpoint() {}

    /** Qwen2.5-0.5B's shape: 24 layers, hidden 896, 14 heads / 2 KV heads of 64, MLP 4864, tied embeddings. */
    public static ModelConfig qwen25HalfB() {
        return new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 24, 14, 2, 64, 32768, 1e-6, 1_000_000.0,
                RopeScaling.DEFAULT, true, true, false, DType.BF16);
    }

    /** Qwen2.5-1.5B's shape (issue 13's and 18's benchmarks): 28 layers, hidden 1536, 12 heads / 2 KV heads of 128. */
    public static ModelConfig qwen25OnePointFiveB() {
        return new ModelConfig(Architecture.QWEN2, 151936, 1536, 8960, 28, 12, 2, 128, 32768, 1e-6, 1_000_000.0,
                RopeScaling.DEFAULT, true, true, false, DType.BF16);
    }

    /** Tensor names and shapes of a Llama/Qwen2/Qwen3 checkpoint of this config, in file order. */
    public static Map<String, long[]> shapes(ModelConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize();
        m.put("model.embed_tokens.weight", new long[]{c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[]{h});
            m.put(p + "self_attn.q_proj.weight", new long[]{c.qDim(), h});
            m.put(p + "self_attn.k_proj.weight", new long[]{c.kvDim(), h});
            m.put(p + "self_attn.v_proj.weight", new long[]{c.kvDim(), h});
            if (c.attentionBias()) {
                m.put(p + "self_attn.q_proj.bias", new long[]{c.qDim()});
                m.put(p + "self_attn.k_proj.bias", new long[]{c.kvDim()});
                m.put(p + "self_attn.v_proj.bias", new long[]{c.kvDim()});
            }
            if (c.qkNorm()) {
                m.put(p + "self_attn.q_norm.weight", new long[]{c.headDim()});
                m.put(p + "self_attn.k_norm.weight", new long[]{c.headDim()});
            }
            m.put(p + "self_attn.o_proj.weight", new long[]{h, c.qDim()});
            m.put(p + "post_attention_layernorm.weight", new long[]{h});
            m.put(p + "mlp.gate_proj.weight", new long[]{c.intermediateSize(), h});
            m.put(p + "mlp.up_proj.weight", new long[]{c.intermediateSize(), h});
            m.put(p + "mlp.down_proj.weight", new long[]{h, c.intermediateSize()});
        }
        m.put("model.norm.weight", new long[]{h});
        if (!c.tieWordEmbeddings()) m.put("lm_head.weight", new long[]{c.vocabSize(), h});
        return m;
    }

    /**
     * Creates {@code dir} with config.json, model.safetensors and the tokenizer files of {@code tokenizerSource}
     * (tokenizer.json, tokenizer_config.json and friends; may be null).
     */
    public static void write(Path dir, ModelConfig c, Path tokenizerSource, long seed) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson(c));
        writeSafetensors(dir.resolve("model.safetensors"), c, seed);
        if (tokenizerSource != null) {
            try (Stream<Path> files = Files.list(tokenizerSource)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString();
                    if (name.startsWith("tokenizer") || name.equals("special_tokens_map.json")
                            || name.equals("vocab.json") || name.equals("merges.txt")
                            || name.equals("generation_config.json") || name.equals("chat_template.jinja")) {
                        Files.copy(f, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
    }

    static String configJson(ModelConfig c) {
        String modelType = switch (c.architecture()) {
            case LLAMA -> "llama";
            case QWEN2 -> "qwen2";
            case QWEN3 -> "qwen3";
        };
        return String.format(Locale.ROOT, """
                {
                  "architectures": ["%s"],
                  "model_type": "%s",
                  "vocab_size": %d,
                  "hidden_size": %d,
                  "intermediate_size": %d,
                  "num_hidden_layers": %d,
                  "num_attention_heads": %d,
                  "num_key_value_heads": %d,
                  "head_dim": %d,
                  "max_position_embeddings": %d,
                  "rms_norm_eps": %s,
                  "rope_theta": %s,
                  "tie_word_embeddings": %s,
                  "attention_bias": %s,
                  "hidden_act": "silu",
                  "torch_dtype": "bfloat16"
                }
                """, c.architecture().hfName(), modelType, c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.maxPositionEmbeddings(),
                Double.toString(c.rmsNormEps()), Double.toString(c.ropeTheta()), c.tieWordEmbeddings(),
                c.attentionBias());
    }

    private static void writeSafetensors(Path file, ModelConfig c, long seed) throws IOException {
        Map<String, long[]> shapes = shapes(c);
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        Map<String, long[]> ranges = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = 1;
            for (long d : e.getValue()) n *= d;
            long end = offset + n * 2;
            ranges.put(e.getKey(), new long[]{offset, end});
            header.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"BF16\",\"shape\":[");
            for (int i = 0; i < e.getValue().length; i++) header.append(i == 0 ? "" : ",").append(e.getValue()[i]);
            header.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) header.append(' ');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        long dataStart = 8 + h.length;
        long total = dataStart + offset;
        Files.deleteIfExists(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer prefix = ByteBuffer.allocate((int) dataStart).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(h.length).put(h).flip();
            ch.write(prefix, 0);
            long s = seed;
            for (Map.Entry<String, long[]> e : ranges.entrySet()) {
                long[] r = e.getValue();
                long len = r[1] - r[0];
                if (len > Integer.MAX_VALUE) throw new IllegalArgumentException(e.getKey() + " is over 2 GiB");
                MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_WRITE, dataStart + r[0], len);
                buf.order(ByteOrder.LITTLE_ENDIAN);
                String name = e.getKey();
                long[] shape = shapes.get(name);
                if (name.endsWith("norm.weight")) fillConstant(buf, (short) 0x3F80); // 1.0, as at initialization
                else fillUniform(buf, s++, shape.length == 2 ? (float) (1 / Math.sqrt(shape[1])) : 0.02f);
                buf.force();
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void fillConstant(ByteBuffer b, short bits) {
        while (b.remaining() >= 2) b.putShort(bits);
    }

    /** Uniform values in [-amp, amp] as BF16, from a xorshift generator (fast enough for a billion values). */
    private static void fillUniform(ByteBuffer b, long seed, float amp) {
        long x = seed * 0x9E3779B97F4A7C15L + 1;
        float scale = 2 * amp / (1 << 24);
        while (b.remaining() >= 2) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            float v = (x & 0xFFFFFF) * scale - amp;
            b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        }
    }
}

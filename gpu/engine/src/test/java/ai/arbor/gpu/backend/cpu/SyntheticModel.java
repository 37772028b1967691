package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.model.RopeScaling;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Small random models (any architecture, any dtype) for tests that need no checkpoint on disk. */
final class SyntheticModel {
    private SyntheticModel() {}

    static ModelConfig config(Architecture arch, boolean tied, RopeScaling scaling) {
        boolean qwen2 = arch == Architecture.QWEN2;
        boolean qwen3 = arch == Architecture.QWEN3;
        return new ModelConfig(arch, 97, 64, 96, 2, 4, 2, 16, 512, 1e-6, 10000.0, scaling, tied, qwen2, qwen3,
                DType.BF16);
    }

    /** Random weights of the config's shapes; projections scaled so activations stay of order one. */
    static Map<String, Tensor> tensors(ModelConfig c, DType dtype, long seed) {
        Random rnd = new Random(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        int h = c.hiddenSize();
        put(m, rnd, dtype, "model.embed_tokens.weight", 1.0, 0, c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            put(m, rnd, dtype, p + "input_layernorm.weight", 0.2, 1.0, h);
            put(m, rnd, dtype, p + "post_attention_layernorm.weight", 0.2, 1.0, h);
            double s = 1 / Math.sqrt(h);
            put(m, rnd, dtype, p + "self_attn.q_proj.weight", s, 0, c.qDim(), h);
            put(m, rnd, dtype, p + "self_attn.k_proj.weight", s, 0, c.kvDim(), h);
            put(m, rnd, dtype, p + "self_attn.v_proj.weight", s, 0, c.kvDim(), h);
            if (c.attentionBias()) {
                put(m, rnd, dtype, p + "self_attn.q_proj.bias", 0.5, 0, c.qDim());
                put(m, rnd, dtype, p + "self_attn.k_proj.bias", 0.5, 0, c.kvDim());
                put(m, rnd, dtype, p + "self_attn.v_proj.bias", 0.5, 0, c.kvDim());
            }
            if (c.qkNorm()) {
                put(m, rnd, dtype, p + "self_attn.q_norm.weight", 0.2, 1.0, c.headDim());
                put(m, rnd, dtype, p + "self_attn.k_norm.weight", 0.2, 1.0, c.headDim());
            }
            put(m, rnd, dtype, p + "self_attn.o_proj.weight", 1 / Math.sqrt(c.qDim()), 0, h, c.qDim());
            put(m, rnd, dtype, p + "mlp.gate_proj.weight", s, 0, c.intermediateSize(), h);
            put(m, rnd, dtype, p + "mlp.up_proj.weight", s, 0, c.intermediateSize(), h);
            put(m, rnd, dtype, p + "mlp.down_proj.weight", 1 / Math.sqrt(c.intermediateSize()), 0, h,
                    c.intermediateSize());
        }
        put(m, rnd, dtype, "model.norm.weight", 0.2, 1.0, h);
        if (!c.tieWordEmbeddings()) put(m, rnd, dtype, "lm_head.weight", s(h), 0, c.vocabSize(), h);
        return m;
    }

    private static double s(int h) { return 1 / Math.sqrt(h); }

    static Weights weights(Map<String, Tensor> tensors) {
        return new Weights() {
            @Override public Tensor tensor(String name) {
                Tensor t = tensors.get(name);
                if (t == null) throw new ModelLoadException(Path.of("synthetic"), name, "no such tensor");
                return t;
            }

            @Override public boolean contains(String name) { return tensors.containsKey(name); }

            @Override public Set<String> names() { return tensors.keySet(); }

            @Override public void close() {}
        };
    }

    /** A tensor of normal(mean, std) values stored in {@code dtype}. */
    static Tensor tensor(Random rnd, DType dtype, String name, double std, double mean, int... shape) {
        long n = 1;
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            s[i] = shape[i];
        }
        ByteBuffer b = ByteBuffer.allocate((int) n * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) (mean + std * rnd.nextGaussian());
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(Bf16.floatToBf16(v));
                case F16 -> b.putShort(floatToF16(v));
            }
        }
        b.flip();
        return new Tensor(name, dtype, s, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static void put(Map<String, Tensor> m, Random rnd, DType dtype, String name, double std, double mean,
                            int... shape) {
        m.put(name, tensor(rnd, dtype, name, std, mean, shape));
    }

    /** Every value of a tensor as double, decoded independently of the backend's readers. */
    static double[] values(Tensor t) {
        ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) t.numElements();
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (t.dtype()) {
                case F32 -> b.getFloat(i * 4);
                case BF16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xFFFF) << 16);
                case F16 -> f16ToDouble(b.getShort(i * 2) & 0xFFFF);
                case F8_E4M3 -> throw new IllegalArgumentException(t.name() + ": FP8 codes need their scale");
            };
        }
        return v;
    }

    /** fp32 to IEEE half, round to nearest (normal range only, which is all the tests need). */
    static short floatToF16(float f) {
        if (Math.abs(f) < 6.2e-5f) return 0; // below the smallest normal half: tests can live with zero
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mant = bits & 0x7FFFFF;
        if (exp <= 0 || exp >= 31) throw new IllegalArgumentException("value out of the half range used in tests: " + f);
        int h = sign | (exp << 10) | (mant >>> 13);
        if ((mant & 0x1FFF) > 0x1000 || ((mant & 0x1FFF) == 0x1000 && (h & 1) == 1)) h++;
        return (short) h;
    }

    static double f16ToDouble(int h) {
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        double sign = (h & 0x8000) != 0 ? -1 : 1;
        if (exp == 0) return sign * mant * Math.pow(2, -24);
        if (exp == 31) return mant == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        return sign * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }
}

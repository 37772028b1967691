package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random BF16 weights of any config's shapes, generated on demand (in parallel, reproducibly) so a benchmark of a
 * billion-parameter shape needs no checkpoint on disk. Projections are scaled by 1/sqrt(fan-in) so activations stay
 * of order one through all layers.
 */
public final class RandomWeights implements Weights {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final long seed;

    public RandomWeights(ModelConfig c, long seed) {
        this.seed = seed;
        long h = c.hiddenSize();
        shapes.put("model.embed_tokens.weight", new long[]{c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[]{h});
            shapes.put(p + "post_attention_layernorm.weight", new long[]{h});
            shapes.put(p + "self_attn.q_proj.weight", new long[]{c.qDim(), h});
            shapes.put(p + "self_attn.k_proj.weight", new long[]{c.kvDim(), h});
            shapes.put(p + "self_attn.v_proj.weight", new long[]{c.kvDim(), h});
            if (c.attentionBias()) {
                shapes.put(p + "self_attn.q_proj.bias", new long[]{c.qDim()});
                shapes.put(p + "self_attn.k_proj.bias", new long[]{c.kvDim()});
                shapes.put(p + "self_attn.v_proj.bias", new long[]{c.kvDim()});
            }
            if (c.qkNorm()) {
                shapes.put(p + "self_attn.q_norm.weight", new long[]{c.headDim()});
                shapes.put(p + "self_attn.k_norm.weight", new long[]{c.headDim()});
            }
            shapes.put(p + "self_attn.o_proj.weight", new long[]{h, c.qDim()});
            shapes.put(p + "mlp.gate_proj.weight", new long[]{c.intermediateSize(), h});
            shapes.put(p + "mlp.up_proj.weight", new long[]{c.intermediateSize(), h});
            shapes.put(p + "mlp.down_proj.weight", new long[]{h, c.intermediateSize()});
        }
        shapes.put("model.norm.weight", new long[]{h});
        if (!c.tieWordEmbeddings()) shapes.put("lm_head.weight", new long[]{c.vocabSize(), h});
    }

    @Override
    public Tensor tensor(String name) {
        long[] shape = shapes.get(name);
        if (shape == null) throw new ModelLoadException(Path.of("random"), name, "no such tensor");
        long elements = 1;
        for (long d : shape) elements *= d;
        final long count = elements;
        boolean norm = name.endsWith("norm.weight");
        float scale = shape.length == 2 ? (float) (1 / Math.sqrt(shape[1])) : 0.1f;
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(count * 2)).order(ByteOrder.LITTLE_ENDIAN);
        int chunk = 1 << 20;
        int chunks = (int) ((count + chunk - 1) / chunk);
        long tensorSeed = seed * 31 + name.hashCode();
        IntStream.range(0, chunks).parallel().forEach(ci -> {
            SplittableRandom r = new SplittableRandom(tensorSeed * 1_000_003L + ci);
            long end = Math.min(count, (long) (ci + 1) * chunk);
            for (long i = (long) ci * chunk; i < end; i++) {
                float v = norm ? 1f + 0.1f * (float) (r.nextDouble() * 2 - 1) : scale * (float) (r.nextDouble() * 2 - 1) * 1.7f;
                buf.putShort((int) (i * 2), CudaWeights.floatToBf16(v));
            }
        });
        return new Tensor(name, DType.BF16, shape, buf);
    }

    @Override
    public boolean contains(String name) { return shapes.containsKey(name); }

    @Override
    public Set<String> names() { return shapes.keySet(); }

    @Override
    public void close() {}
}

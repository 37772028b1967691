package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.quant.E4m3;
import ai.arbor.gpu.model.quant.Quantization;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An FP8 checkpoint of tiny-qwen2 served by the CPU backend: its F8_E4M3 codes and weight_scale tensors (per tensor
 * for q/k/v and gate/up, per channel as [out, 1] for o and down, as the two layouts vLLM reads) must give the logits of
 * the same model whose linear weights are those codes times their scales in fp32. The quantizer here is independent of
 * the backends' ({@code Fp8Weight.quantize}): one scale a tensor, or a row, from its absolute maximum.
 */
class Fp8CheckpointBackendTest {
    private static final int BLOCK = 16;
    private static final int BLOCKS = 32;
    private static final Set<String> PER_TENSOR = Set.of("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj");

    @Test
    void anFp8CheckpointGivesTheLogitsOfItsCodesTimesItsScales() {
        try (HfModel hf = HfModel.load(ReferenceLogitsTest.modelDir("tiny-qwen2"))) {
            Map<String, Tensor> fp8 = new HashMap<>(), widened = new HashMap<>();
            for (String name : hf.weights().names()) {
                Tensor t = hf.weights().tensor(name);
                String[] parts = name.split("\\.");
                boolean linear = name.startsWith("model.layers.") && name.endsWith("_proj.weight");
                if (!linear) {
                    fp8.put(name, t);
                    widened.put(name, t);
                    continue;
                }
                quantize(t, PER_TENSOR.contains(parts[parts.length - 2]), fp8, widened);
            }
            try (CpuBackend fromCodes = new CpuBackend(hf.config(), weights(fp8), 2, 64L << 20, Quantization.NONE);
                 CpuBackend fromFloats = new CpuBackend(hf.config(), weights(widened), 2, 64L << 20, Quantization.NONE)) {
                assertTrue(fromCodes.weightBytes() < fromFloats.weightBytes() / 3,
                        "a byte a layer weight against fp32: " + fromCodes.weightBytes() + " vs " + fromFloats.weightBytes());
                fromCodes.allocateKvCache(BLOCKS, BLOCK);
                fromFloats.allocateKvCache(BLOCKS, BLOCK);
                int[] table = new int[BLOCKS];
                for (int i = 0; i < BLOCKS; i++) table[i] = i;
                int[] prompt = hf.tokenizer().encodeNoSpecial("The quick brown fox jumps over the lazy dog, and then");
                double max = 0, scale = 0;
                int next = 0;
                for (int step = 0; step < 8; step++) {
                    SequenceChunk c = step == 0 ? new SequenceChunk(prompt, 0, table, true)
                            : new SequenceChunk(new int[]{next}, prompt.length + step - 1, table, true);
                    float[] a = fromCodes.forward(new ForwardBatch(List.of(c)))[0];
                    float[] b = fromFloats.forward(new ForwardBatch(List.of(c)))[0];
                    for (int v = 0; v < a.length; v++) {
                        max = Math.max(max, Math.abs(a[v] - b[v]));
                        scale = Math.max(scale, Math.abs(b[v]));
                    }
                    next = argmax(b);
                    assertEquals(next, argmax(a), "step " + step);
                }
                // only the order of fp32 operations differs (scale after the dot product, or inside each weight)
                assertTrue(max <= 1e-4 * scale, "max |dlogit| " + max + " of logits up to " + scale);
            }
        }
    }

    /** t ([out, in], any float dtype) as E4M3 codes and a weight_scale, and as fp32 codes times scales. */
    private static void quantize(Tensor t, boolean perTensor, Map<String, Tensor> fp8, Map<String, Tensor> widened) {
        int rows = t.rows(), cols = t.cols();
        float[] v = floats(t);
        float[] scales = new float[rows];
        float all = 0;
        for (float x : v) all = Math.max(all, Math.abs(x));
        for (int r = 0; r < rows; r++) {
            float amax = 0;
            for (int c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(v[r * cols + c]));
            scales[r] = (perTensor ? all : amax) / 448f;
        }
        ByteBuffer codes = ByteBuffer.allocate(rows * cols);
        ByteBuffer dequantized = ByteBuffer.allocate(4 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.length; i++) {
            byte code = E4m3.encode(v[i] / scales[i / cols]);
            codes.put(i, code);
            dequantized.putFloat(4 * i, E4m3.decode(code) * scales[i / cols]);
        }
        String base = t.name().substring(0, t.name().length() - ".weight".length());
        fp8.put(t.name(), new Tensor(t.name(), DType.F8_E4M3, t.shape(), codes.asReadOnlyBuffer()));
        ByteBuffer s = ByteBuffer.allocate(4 * (perTensor ? 1 : rows)).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < (perTensor ? 1 : rows); r++) s.putFloat(4 * r, scales[r]);
        fp8.put(base + ".weight_scale", new Tensor(base + ".weight_scale", DType.F32,
                perTensor ? new long[]{} : new long[]{rows, 1}, s.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN)));
        widened.put(t.name(), new Tensor(t.name(), DType.F32, t.shape(),
                dequantized.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN)));
    }

    private static float[] floats(Tensor t) {
        ByteBuffer b = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[(int) t.numElements()];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (t.dtype()) {
                case BF16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                case F32 -> b.getFloat(4 * i);
                default -> throw new IllegalStateException(t.name() + " is " + t.dtype());
            };
        }
        return v;
    }

    private static Weights weights(Map<String, Tensor> tensors) {
        return new Weights() {
            @Override public Tensor tensor(String name) {
                Tensor t = tensors.get(name);
                if (t == null) throw new IllegalArgumentException("no tensor " + name);
                return t;
            }
            @Override public boolean contains(String name) { return tensors.containsKey(name); }
            @Override public Set<String> names() { return tensors.keySet(); }
            @Override public void close() {}
        };
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

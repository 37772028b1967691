package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.CheckpointQuantization;
import ai.arbor.gpu.model.quant.Fp8Checkpoint;
import ai.arbor.gpu.model.quant.Fp8Weight;
import ai.arbor.gpu.model.quant.Quantization;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

/**
 * The checkpoint on the GPU in the kernels' layouts: matrices bf16 (PyTorch's [out, in]), q/k/v stacked into one
 * projection and gate/up into one so a layer runs four matmuls; norms and biases fp32. Biases are optional
 * everywhere (Qwen2 has q/k/v biases). With {@link Quantization#FP8} the four layer matrices are E4M3 codes (a byte a
 * weight) with an fp32 scale per row ({@code *Scales}, null otherwise), quantized at load as the CPU backend does
 * ({@link Fp8Weight}); embeddings and the LM head stay bf16, as in vLLM.
 */
record CudaWeights(CUdeviceptr embedTokens, Layer[] layers, CUdeviceptr finalNorm, CUdeviceptr lmHead, long bytes) {

    record Layer(CUdeviceptr inputNorm, CUdeviceptr qkvProj, CUdeviceptr qkvBias, CUdeviceptr qNorm, CUdeviceptr kNorm,
                 CUdeviceptr oProj, CUdeviceptr oBias, CUdeviceptr postAttentionNorm,
                 CUdeviceptr gateUpProj, CUdeviceptr gateUpBias, CUdeviceptr downProj, CUdeviceptr downBias,
                 CUdeviceptr qkvScales, CUdeviceptr oScales, CUdeviceptr gateUpScales, CUdeviceptr downScales) {}

    /** Whether the layer matrices are FP8 codes with scales. */
    boolean fp8() { return layers.length > 0 && layers[0].qkvScales() != null; }

    /** Elements of the largest layer matrix: what the FP8 path's bf16 scratch must hold for 3+ rows. */
    static long largestLayerMatrix(ModelConfig c) {
        long h = c.hiddenSize();
        return Math.max(Math.max((c.qDim() + 2L * c.kvDim()) * h, h * c.qDim()), 2L * c.intermediateSize() * h);
    }

    /**
     * Bytes the model needs on the device (for the fits-in-memory check before uploading): bf16 matrices, or with FP8
     * a byte a layer weight, a scale a row and the bf16 scratch one layer matrix is widened into for 3+ rows.
     */
    static long matrixBytes(ModelConfig c, Quantization q) {
        long h = c.hiddenSize();
        long perLayer = (c.qDim() + 2L * c.kvDim()) * h + h * c.qDim() + 3L * c.intermediateSize() * h;
        long rows = c.qDim() + 2L * c.kvDim() + 2L * h + 2L * c.intermediateSize();
        long embed = 2L * c.vocabSize() * h * (c.tieWordEmbeddings() ? 1 : 2);
        if (q == Quantization.FP8) return (perLayer + 4 * rows) * c.numLayers() + embed + 2 * largestLayerMatrix(c);
        return 2 * perLayer * c.numLayers() + embed;
    }

    static CudaWeights upload(CudaDevice dev, ModelConfig c, Weights w, Quantization quantization) {
        int hidden = c.hiddenSize();
        int q = c.qDim();
        int kv = c.kvDim();
        int inter = c.intermediateSize();
        Uploader up = new Uploader(dev, w);
        CUdeviceptr embed = up.matrix("model.embed_tokens.weight", List.of(w.tensor("model.embed_tokens.weight")),
                new int[]{c.vocabSize()}, hidden);
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            String m = p + "mlp.";
            CUdeviceptr qkvBias = up.stackedBias(w, new String[]{a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias"},
                    new int[]{q, kv, kv});
            if (c.attentionBias() && qkvBias == null) {
                throw new IllegalArgumentException("config declares attention biases but " + a + "q_proj.bias is missing");
            }
            boolean fp8 = quantization == Quantization.FP8 || CheckpointQuantization.fp8Weights(w);
            CUdeviceptr[] qkvProj = up.layerMatrix(a + "{q,k,v}_proj.weight", List.of(w.tensor(a + "q_proj.weight"),
                    w.tensor(a + "k_proj.weight"), w.tensor(a + "v_proj.weight")), new int[]{q, kv, kv}, hidden, fp8);
            CUdeviceptr[] oProj = up.layerMatrix(a + "o_proj.weight", List.of(w.tensor(a + "o_proj.weight")),
                    new int[]{hidden}, q, fp8);
            CUdeviceptr[] gateUpProj = up.layerMatrix(m + "{gate,up}_proj.weight", List.of(w.tensor(m + "gate_proj.weight"),
                    w.tensor(m + "up_proj.weight")), new int[]{inter, inter}, hidden, fp8);
            CUdeviceptr[] downProj = up.layerMatrix(m + "down_proj.weight", List.of(w.tensor(m + "down_proj.weight")),
                    new int[]{hidden}, inter, fp8);
            layers[i] = new Layer(
                    up.vector(w.tensor(p + "input_layernorm.weight"), hidden),
                    qkvProj[0],
                    qkvBias,
                    c.qkNorm() ? up.vector(w.tensor(a + "q_norm.weight"), c.headDim()) : null,
                    c.qkNorm() ? up.vector(w.tensor(a + "k_norm.weight"), c.headDim()) : null,
                    oProj[0],
                    w.contains(a + "o_proj.bias") ? up.vector(w.tensor(a + "o_proj.bias"), hidden) : null,
                    up.vector(w.tensor(p + "post_attention_layernorm.weight"), hidden),
                    gateUpProj[0],
                    up.stackedBias(w, new String[]{m + "gate_proj.bias", m + "up_proj.bias"}, new int[]{inter, inter}),
                    downProj[0],
                    w.contains(m + "down_proj.bias") ? up.vector(w.tensor(m + "down_proj.bias"), hidden) : null,
                    qkvProj[1], oProj[1], gateUpProj[1], downProj[1]);
        }
        CUdeviceptr norm = up.vector(w.tensor("model.norm.weight"), hidden);
        CUdeviceptr lmHead;
        if (c.tieWordEmbeddings()) {
            lmHead = embed;
        } else if (!w.contains("lm_head.weight")) {
            throw new IllegalArgumentException("tie_word_embeddings is false but lm_head.weight is missing");
        } else {
            lmHead = up.matrix("lm_head.weight", List.of(w.tensor("lm_head.weight")), new int[]{c.vocabSize()}, hidden);
        }
        return new CudaWeights(embed, layers, norm, lmHead, up.bytes);
    }

    private static final class Uploader {
        final CudaDevice dev;
        final Weights weights;
        long bytes;

        Uploader(CudaDevice dev, Weights weights) {
            this.dev = dev;
            this.weights = weights;
        }

        /** The parts stacked row-wise into one bf16 [sum(rows), cols] matrix on the device. */
        CUdeviceptr matrix(String what, List<Tensor> parts, int[] rows, int cols) {
            if (cols % 8 != 0) {
                throw new IllegalArgumentException(what + " has " + cols + " columns; the CUDA kernels need a multiple of 8");
            }
            long total = 0;
            for (int r : rows) total += r;
            long size = total * cols * 2;
            CUdeviceptr d = dev.alloc(size, what);
            long off = 0;
            for (int i = 0; i < parts.size(); i++) {
                Tensor t = parts.get(i);
                checkShape(t, new long[]{rows[i], cols});
                ByteBuffer bf16 = toBf16(t);
                cuMemcpyHtoD(d.withByteOffset(off), Pointer.to(bf16), (long) rows[i] * cols * 2);
                off += (long) rows[i] * cols * 2;
            }
            bytes += size;
            return d;
        }

        /**
         * {matrix, null} in bf16, or {codes, scales} with fp8: an FP8 checkpoint's parts as they are, others quantized
         * row by row, as the CPU does.
         */
        CUdeviceptr[] layerMatrix(String what, List<Tensor> parts, int[] rows, int cols, boolean fp8) {
            if (!fp8) return new CUdeviceptr[]{matrix(what, parts, rows, cols), null};
            if (cols % 16 != 0) {
                throw new IllegalArgumentException(what + " has " + cols + " columns; the FP8 kernels need a multiple of 16");
            }
            int total = 0;
            for (int r : rows) total += r;
            CUdeviceptr codes = dev.alloc((long) total * cols, what + " (fp8)");
            CUdeviceptr scales = dev.alloc(4L * total, what + " (fp8 scales)");
            long row = 0;
            for (int i = 0; i < parts.size(); i++) {
                Tensor t = parts.get(i);
                checkShape(t, new long[]{rows[i], cols});
                Fp8Weight q = Fp8Checkpoint.fp8(weights, t, rows[i], cols, (r, dst) -> {
                    ByteBuffer b = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
                    for (int c2 = 0; c2 < cols; c2++) dst[c2] = read(t, b, r * cols + c2);
                });
                cuMemcpyHtoD(codes.withByteOffset(row * cols), Pointer.to(q.codes()), (long) rows[i] * cols);
                cuMemcpyHtoD(scales.withByteOffset(4 * row), Pointer.to(q.scales()), 4L * rows[i]);
                row += rows[i];
            }
            bytes += (long) total * cols + 4L * total;
            return new CUdeviceptr[]{codes, scales};
        }

        CUdeviceptr vector(Tensor t, int length) {
            checkShape(t, new long[]{length});
            return floats(toFloats(t), t.name());
        }

        CUdeviceptr floats(float[] v, String what) {
            CUdeviceptr d = dev.alloc((long) v.length * 4, what);
            cuMemcpyHtoD(d, Pointer.to(v), (long) v.length * 4);
            return d;
        }

        CUdeviceptr stackedBias(Weights w, String[] names, int[] lengths) {
            boolean any = false;
            for (String n : names) any |= w.contains(n);
            if (!any) return null;
            int total = 0;
            for (int l : lengths) total += l;
            float[] bias = new float[total];
            int off = 0;
            for (int i = 0; i < names.length; i++) {
                if (w.contains(names[i])) {
                    Tensor t = w.tensor(names[i]);
                    checkShape(t, new long[]{lengths[i]});
                    System.arraycopy(toFloats(t), 0, bias, off, lengths[i]);
                }
                off += lengths[i];
            }
            return floats(bias, names[0]);
        }
    }

    private static void checkShape(Tensor t, long[] expected) {
        if (!java.util.Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException("tensor " + t.name() + " has shape " + java.util.Arrays.toString(t.shape())
                    + " but the config implies " + java.util.Arrays.toString(expected));
        }
    }

    /** The tensor as little-endian bf16 bytes (BF16 is passed through; F16 and F32 are rounded to nearest even). */
    static ByteBuffer toBf16(Tensor t) {
        ByteBuffer src = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
        if (t.dtype() == DType.BF16) return src;
        int n = (int) t.numElements();
        ByteBuffer out = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) out.putShort(i * 2, floatToBf16(read(t, src, i)));
        return out;
    }

    static float[] toFloats(Tensor t) {
        ByteBuffer src = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) t.numElements();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = read(t, src, i);
        return v;
    }

    private static float read(Tensor t, ByteBuffer b, int i) {
        return switch (t.dtype()) {
            case BF16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
            case F16 -> f16ToFloat(b.getShort(i * 2));
            case F32 -> b.getFloat(i * 4);
            case F8_E4M3 -> throw new IllegalArgumentException(t.name() + " is F8_E4M3: only a quantized linear layer "
                    + "(with its weight_scale) may be");
        };
    }

    static float f16ToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) 0x7fc0;
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}

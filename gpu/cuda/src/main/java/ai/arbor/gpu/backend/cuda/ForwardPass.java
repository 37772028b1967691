package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.model.ModelConfig;
import jcuda.driver.CUdeviceptr;

import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

/**
 * The kernel launches of one forward pass ({@link #encode}: the part a CUDA graph captures), the activation buffers
 * they use and the choice of kernel per shape, as {@link CudaTuning} says. Which kernels were chosen and why, with
 * their measurements, is in {@code gpu/cuda/src/main/cuda/NOTES.md}.
 */
final class ForwardPass {
    static final int MAX_SPLITS = 16;
    static final int STREAM_ROWS = 64;
    /** stream_gemm.cu's reduction tile: its `in` must be a multiple. */
    static final int STREAM_GEMM_K = 64;
    static final int ARGMAX_PARTS = 64;

    final ModelConfig config;
    final CudaDevice dev;
    final CudaWeights weights;
    final CUdeviceptr invFreq;
    final int kvBytes;
    final String kvSuffix;
    final float eps;
    final int qkvDim;
    final boolean streamable;
    final boolean gemmable;
    final DeviceSampler sampler;
    CudaTuning t = CudaTuning.defaults();
    /** Set while the o projection runs after a combine that wrote xHi / xLo (one-shot, see fuseOSplit). */
    private boolean preSplit;

    CUdeviceptr kCache, vCache;
    int blockSize;
    /** Elements of one layer's K (or V) cache, scratch block included. */
    long layerStride;

    int capTokens, capLogitRows, capMetaInts, capSplitRows;
    CUdeviceptr meta, x, h, qkv, attn, gateUp, act, last, logits, partAcc, partMl, argmax, argmaxPart, xHi, xLo;
    /** FP8 weights: the bf16 copy of one layer matrix that 3+ rows multiply (null with bf16 weights). */
    final CUdeviceptr fp8Scratch;

    ForwardPass(ModelConfig config, CudaDevice dev, CudaWeights weights, CUdeviceptr invFreq, boolean kvFloat32,
                DeviceSampler sampler) {
        this.config = config;
        this.dev = dev;
        this.weights = weights;
        this.invFreq = invFreq;
        this.sampler = sampler;
        this.kvBytes = kvFloat32 ? 4 : 2;
        this.kvSuffix = kvFloat32 ? "_f32" : "_bf16";
        this.eps = (float) config.rmsNormEps();
        this.qkvDim = config.qDim() + 2 * config.kvDim();
        this.streamable = config.hiddenSize() % 16 == 0 && config.qDim() % 16 == 0 && qkvDim % 16 == 0
                && config.intermediateSize() % 16 == 0 && config.vocabSize() % 16 == 0;
        // every matmul whose input is fused into split_bf16 (q/k/v, gate/up, down) takes stream_gemm's shapes
        this.gemmable = config.hiddenSize() % STREAM_GEMM_K == 0 && config.intermediateSize() % STREAM_GEMM_K == 0
                && qkvDim % 16 == 0;
        this.fp8Scratch = weights.fp8()
                ? dev.alloc(2 * CudaWeights.largestLayerMatrix(config), "fp8 weights widened to bf16") : null;
    }

    /** Every kernel of one forward pass, in order: the part a CUDA graph captures. */
    void encode(StepInputs s, boolean sample) {
        layers(s);
        if (s.m() > 0) head(s, sample);
    }

    /**
     * Every layer, then the final norm of every token's row (not only the logits rows) into {@link #h}: the hidden
     * states embeddings pool, n x hidden fp32. No logits: the lm_head would only cost time.
     */
    void encodeHidden(StepInputs s) {
        layers(s);
        dev.launch("rmsnorm", s.n(), 1, 1, 256, x, weights.finalNorm(), h, null, config.hiddenSize(), eps);
    }

    /** The embedding and every decoder layer: the residual stream of every token left in {@link #x}, K/V in the cache. */
    private void layers(StepInputs s) {
        int n = s.n();
        int hidden = config.hiddenSize();
        int inter = config.intermediateSize();
        int heads = config.numHeads();
        int headDim = config.headDim();
        CUdeviceptr ids = ints(s.idsOffset());
        CUdeviceptr positions = ints(s.positionsOffset());
        CUdeviceptr slots = ints(s.slotsOffset());
        CUdeviceptr seqOfToken = ints(s.seqOfTokenOffset());
        CUdeviceptr tables = ints(s.tablesOffset());
        boolean gemm = t.batchKernel().equals("gemm") && gemmable;
        // 3+ rows fold RMSNorm and SwiGLU into the bf16 split of the projections' input; one or two rows fold them
        // into the gemv's epilogues instead (a norm inside the gemv would re-read x per output row: measured slower)
        boolean fused = n > 2 && (gemm || (n <= STREAM_ROWS && streamable));
        boolean small = n <= 2 && t.fuseSmallBatches();

        dev.launch("embedding", n, 1, 1, 256, weights.embedTokens(), ids, x, hidden);
        for (int l = 0; l < config.numLayers(); l++) {
            CudaWeights.Layer w = weights.layers()[l];
            CUdeviceptr kc = kCache.withByteOffset(l * layerStride * kvBytes);
            CUdeviceptr vc = vCache.withByteOffset(l * layerStride * kvBytes);
            // attention block: x += o_proj(attention(rope(q), rope(k), v)), K/V written into the paged cache
            if (fused) {
                matmul(x, w.inputNorm(), false, w.qkvProj(), w.qkvScales(), w.qkvBias(), qkv, n, hidden, qkvDim, false);
            } else if (small && t.fuseSmallRope() && w.qNorm() == null && w.kNorm() == null) {
                // one launch: RMSNorm folded in, q/k/v, RoPE, K/V written into the cache at each row's own slot
                CUdeviceptr in = x, norm = w.inputNorm();
                if (!t.fuseSmallNorm()) {
                    dev.launch("rmsnorm", n, 1, 1, 256, x, w.inputNorm(), h, null, hidden, eps);
                    in = h;
                    norm = null;
                }
                int ks = gemvSplit(hidden, qkvDim / 2);
                dev.tag = hidden + "x" + qkvDim + "+rope";
                dev.launch("matmul_qkv_rope" + n + fp8(w.qkvScales()), (qkvDim / 2 + 8 / ks - 1) / (8 / ks), 1, 1,
                        256, in, norm, eps, w.qkvProj(), w.qkvScales(), w.qkvBias(), qkv, n, hidden, qkvDim, ks,
                        positions, slots, invFreq, kc, vc, heads,
                        config.numKvHeads(), headDim, kvSuffix.equals("_f32") ? 1 : 0);
                dev.tag = "";
            } else {
                dev.launch("rmsnorm", n, 1, 1, 256, x, w.inputNorm(), h, null, hidden, eps);
                matmul(h, null, false, w.qkvProj(), w.qkvScales(), w.qkvBias(), qkv, n, hidden, qkvDim, false);
            }
            if (!(small && t.fuseSmallRope() && w.qNorm() == null && w.kNorm() == null) || fused) {
                dev.launch("rope_kv_write" + kvSuffix, n, 1, 1, t.ropeThreads(), qkv, positions, slots, invFreq, w.qNorm(), w.kNorm(),
                        eps, kc, vc, heads, config.numKvHeads(), headDim);
            }
            prefetchDuringAttention(w);
            preSplit = attention(s, kc, vc, t.groupedAttention(), 0) && t.fuseOSplit();
            try {
                matmul(attn, null, false, w.oProj(), w.oScales(), w.oBias(), x, n, config.qDim(), hidden, true);
            } finally {
                preSplit = false;
            }
            // MLP block: x += down_proj(silu(gate_proj(h)) * up_proj(h))
            if (small) {
                CUdeviceptr in = x, norm = w.postAttentionNorm();
                if (!t.fuseSmallNorm()) {
                    dev.launch("rmsnorm", n, 1, 1, 256, x, w.postAttentionNorm(), h, null, hidden, eps);
                    in = h;
                    norm = null;
                }
                int ks = gemvSplit(hidden, inter);
                dev.tag = hidden + "x" + inter + "x2";
                dev.launch("matmul_glu" + n + fp8(w.gateUpScales()), (inter + 8 / ks - 1) / (8 / ks), 1, 1, 256, in,
                        norm, eps, w.gateUpProj(), w.gateUpScales(), w.gateUpBias(), act, n, hidden, inter, ks);
                dev.tag = "";
                matmul(act, null, false, w.downProj(), w.downScales(), w.downBias(), x, n, inter, hidden, true);
            } else if (fused) {
                matmul(x, w.postAttentionNorm(), false, w.gateUpProj(), w.gateUpScales(), w.gateUpBias(), gateUp, n, hidden,
                        2 * inter, false);
                matmul(gateUp, null, true, w.downProj(), w.downScales(), w.downBias(), x, n, inter, hidden, true);
            } else {
                dev.launch("rmsnorm", n, 1, 1, 256, x, w.postAttentionNorm(), h, null, hidden, eps);
                matmul(h, null, false, w.gateUpProj(), w.gateUpScales(), w.gateUpBias(), gateUp, n, hidden, 2 * inter,
                        false);
                int elems = n * inter;
                dev.launch("swiglu", Math.min((elems + 255) / 256, 32 * dev.multiprocessors), 1, 1, 256, gateUp, act, n, inter);
                matmul(act, null, false, w.downProj(), w.downScales(), w.downBias(), x, n, inter, hidden, true);
            }
        }
    }

    /**
     * Attention reads a few MB of KV at most: DRAM has time to bring the o projection and the first
     * {@link CudaTuning#l2PrefetchMib} MiB (o included) of gate/up into L2 before those matmuls stream them.
     */
    private void prefetchDuringAttention(CudaWeights.Layer w) {
        if (t.l2PrefetchMib() == 0 || dev.computeCapability < 90) return;
        long budget = (long) t.l2PrefetchMib() << 20;
        long bytesPerWeight = w.oScales() != null ? 1 : 2; // FP8 codes or bf16
        long o = Math.min(budget, bytesPerWeight * config.qDim() * config.hiddenSize());
        long gateUp = Math.min(budget - o, 2 * bytesPerWeight * config.intermediateSize() * config.hiddenSize());
        dev.launch("l2_prefetch", 1, 1, 1, 128, w.oProj(), o & ~15L, w.gateUpProj(), gateUp & ~15L);
    }

    /** The final norm of the logits rows, the lm_head, and the tokens picked from the logits (argmax or sampled). */
    private void head(StepInputs s, boolean sample) {
        int hidden = config.hiddenSize();
        dev.launch("rmsnorm", s.m(), 1, 1, 256, x, weights.finalNorm(), last, ints(s.logitRowsOffset()), hidden, eps);
        matmul(last, null, false, weights.lmHead(), null, logits, s.m(), hidden, config.vocabSize(), false);
        if (sample) {
            sampler.enqueue(logits, s.m(), argmax);
        } else if (t.splitArgmax()) {
            // the rows split over blocks (NOTES.md: argmax)
            dev.launch("argmax_part", s.m(), ARGMAX_PARTS, 1, 256, logits, config.vocabSize(), argmaxPart,
                    argmaxPart.withByteOffset(4L * capLogitRows * ARGMAX_PARTS));
            dev.launch("argmax_final", s.m(), 1, 1, 32, argmaxPart,
                    argmaxPart.withByteOffset(4L * capLogitRows * ARGMAX_PARTS), ARGMAX_PARTS, argmax);
        } else {
            dev.launch("argmax_rows", s.m(), 1, 1, 1024, logits, config.vocabSize(), argmax);
        }
    }

    /** attn = softmax(q k^T / sqrt(d)) v over each token's cached positions, K/V of layer kc / vc. */
    /** @return whether attention_combine also wrote the output's bf16 hi / lo split (xHi, xLo) */
    boolean attention(StepInputs s, CUdeviceptr kc, CUdeviceptr vc, boolean grouped, int splitsOverride) {
        int n = s.n();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int headDim = config.headDim();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        CUdeviceptr positions = ints(s.positionsOffset());
        CUdeviceptr seqOfToken = ints(s.seqOfTokenOffset());
        CUdeviceptr tables = ints(s.tablesOffset());
        if (flashPrefill(s)) {
            int g = heads / kvHeads;
            dev.launchShared("attention_prefill" + headDim, (n + 64 / g - 1) / (64 / g), kvHeads, 1, 128, 768 * headDim,
                    qkv, attn, positions, seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, scale, n);
            return false;
        }
        int splits;
        if (grouped && kvBytes == 2 && heads / kvHeads <= 8 && Integer.bitCount(headDim) == 1 && headDim >= 32
                && headDim <= 256 && n >= 3) { // one or two rows: the per-head kernel measured faster
            int g = heads / kvHeads;
            boolean mma = t.attentionMma() && (headDim == 32 || headDim == 64 || headDim == 128);
            int parts = !mma && t.attentionParts() > 1 && g % t.attentionParts() == 0 ? t.attentionParts() : 1;
            // blocks per (token, KV head, head part); split the keys until there are blocks for every SM twice, but
            // keep 32 or more positions per split (the table width bounds the context: a graph serves many steps)
            int perSplit = n * kvHeads * parts;
            splits = Math.max(1, Math.min(Math.min(MAX_SPLITS, (2 * dev.multiprocessors + perSplit - 1) / perSplit),
                    s.width() * blockSize / 32));
            if (splitsOverride > 0) splits = splitsOverride;
            else if (t.attentionSplits() > 0) splits = t.attentionSplits();
            splits = Math.max(1, Math.min(splits, (2 * dev.multiprocessors + MAX_SPLITS * heads) * MAX_SPLITS / (n * heads)));
            int gp = g / parts;
            int bucket = gp <= 2 ? 2 : gp <= 3 ? 3 : gp <= 4 ? 4 : gp <= 6 ? 6 : 8;
            // attention_mma.cu: 4 warps x 2 stages x K and V tiles of 16 positions, and q as 16 bf16 rows
            if (mma) dev.launchShared("paged_attention_mma" + headDim, n, kvHeads, splits, 128, (16 + 1) * 16 * headDim * 2, qkv, attn,
                    partAcc, partMl, positions, seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, scale);
            else dev.launch("paged_attention_gqa" + headDim + "_" + bucket + (t.attentionWarps() == 4 ? "" : "_w" + t.attentionWarps()),
                    n, kvHeads * parts, splits, 32 * t.attentionWarps(), qkv, attn, partAcc,
                    partMl, positions, seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, scale);
        } else {
            splits = n * heads >= 2 * dev.multiprocessors ? 1
                    : Math.min(MAX_SPLITS, (2 * dev.multiprocessors + n * heads - 1) / (n * heads));
            if (n <= 2 && t.smallAttentionSplits() > 0) splits = Math.min(MAX_SPLITS, t.smallAttentionSplits());
            dev.launch("paged_attention" + kvSuffix, n, heads, splits, 128, qkv, attn, partAcc, partMl, positions,
                    seqOfToken, tables, s.width(), kc, vc, blockSize, heads, kvHeads, headDim, scale);
        }
        // the o projection's bf16 split written by the combine (stream_gemm path only: n >= 3, "gemm" kernels)
        boolean split = t.fuseOSplit() && splits > 1 && n >= 3 && t.batchKernel().equals("gemm")
                && config.qDim() % STREAM_GEMM_K == 0 && config.hiddenSize() % 16 == 0;
        if (splits > 1) dev.launch("attention_combine", n, heads, 1, headDim, partAcc, partMl, attn, heads, headDim, splits,
                split ? xHi : null, split ? xLo : null);
        return split;
    }

    /**
     * Warps per output row of the gemv: more for matrices with few rows (down_proj, o_proj), so that there are blocks
     * for every SM several times over, as long as each warp still streams 64 or more 16-byte chunks.
     */
    int gemvSplit(int in, int out) {
        int ks = 1;
        while (ks < 8 && (long) out * ks / 8 < (long) t.gemvBlocksPerSm() * dev.multiprocessors && in / 8 / (2 * ks) >= 64) ks *= 2;
        return ks;
    }

    /**
     * {@code y (+)= x . W^T + bias}: a weight-streaming gemv for one or two rows, the tensor-core weight-streaming GEMM
     * for more (norm / gated: its input is RMSNorm(x) * norm or silu(gate) * up, folded into the bf16 split).
     */
    void matmul(CUdeviceptr xIn, CUdeviceptr norm, boolean gated, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr y,
                        int n, int in, int out, boolean accumulate) {
        matmul(xIn, norm, gated, w, null, bias, y, n, in, out, accumulate);
    }

    /**
     * {@link #matmul} with W as FP8 codes scaled per row by {@code scales} (null: W is bf16): the FP8 gemv for one or two
     * rows, the wgmma GEMM's FP8 kernels where it applies, else W widened to bf16 into {@link #fp8Scratch} first.
     */
    void matmul(CUdeviceptr xIn, CUdeviceptr norm, boolean gated, CUdeviceptr w, CUdeviceptr scales, CUdeviceptr bias,
                CUdeviceptr y, int n, int in, int out, boolean accumulate) {
        dev.tag = in + "x" + out + (scales != null ? " fp8" : "");
        try {
            if (scales != null && n > 2 && !takesHopperGemm(n, in, out)) { // the wgmma GEMM reads FP8 itself
                long chunks = (long) out * in / 8;
                dev.launch("fp8_dequant_bf16", (int) Math.min((chunks + 255) / 256, 8L * dev.multiprocessors), 1, 1, 256,
                        w, scales, fp8Scratch, out, in);
                w = fp8Scratch;
                scales = null;
            }
            matmulUntagged(xIn, norm, gated, w, scales, bias, y, n, in, out, accumulate);
        } finally {
            dev.tag = "";
        }
    }

    /** The FP8 kernels' name suffix for a matrix with these scales. */
    private static String fp8(CUdeviceptr scales) {
        return scales != null ? "_fp8" : "";
    }

    private void matmulUntagged(CUdeviceptr xIn, CUdeviceptr norm, boolean gated, CUdeviceptr w, CUdeviceptr scales,
                                CUdeviceptr bias, CUdeviceptr y, int n, int in, int out, boolean accumulate) {
        int acc = accumulate ? 1 : 0;
        int gate = gated ? 1 : 0;
        if (n <= 2) {
            if (norm != null || gated) throw new IllegalStateException("fused matmul inputs need three or more rows");
            int ks = gemvSplit(in, out);
            dev.launch("matmul_gemv" + n + fp8(scales), (out + 8 / ks - 1) / (8 / ks), 1, 1, 256, xIn, w, scales, bias,
                    y, n, in, out, acc, ks);
        } else if (takesHopperGemm(n, in, out)) {
            // whole output tiles written with the bias (and the residual when accumulating): y needs no zeroing, and
            // rows beyond n are not read, so only the n real rows are split
            int parts = (int) Math.max(1, Math.min((in + 1023) / 1024, (4L * dev.multiprocessors + n - 1) / n));
            if (!(preSplit && accumulate && norm == null && !gated && xIn == attn)) {
                dev.launch("split_bf16", n, parts, 1, 256, xIn, norm, eps, gate, xHi, xLo, n, in, null, 0);
            }
            if (t.hopperGemmTma() && scales == null) {
                HopperGemm.launchTma(dev, t.hopperGemmLo(), xHi, xLo, w, bias, y, n, in, out, accumulate);
            } else {
                HopperGemm.launch(dev, t.hopperGemmLo(), xHi, xLo, w, scales, bias, y, n, in, out, accumulate);
            }
        } else if (t.batchKernel().equals("gemm") && in % STREAM_GEMM_K == 0 && out % 16 == 0) {
            int nt = n <= 8 ? 1 : n <= 16 ? 2 : n <= 24 ? 3 : n <= 32 ? 4 : n <= 48 ? 6 : 8;
            int slices = (n + 8 * nt - 1) / (8 * nt);
            int rows = slices * 8 * nt;
            // parts per row: enough blocks for the SMs when there are few rows, ~1024+ elements each
            int parts = (int) Math.max(1, Math.min((Math.max(in, accumulate ? 0 : out) + 1023) / 1024,
                    (4L * dev.multiprocessors + rows - 1) / rows));
            if (!(preSplit && accumulate && norm == null && !gated && xIn == attn)) {
                dev.launch("split_bf16", rows, parts, 1, 256, xIn, norm, eps, gate, xHi, xLo, n, in, accumulate ? null : y, out);
            }
            String kernel = "stream_gemm" + nt + (t.gemmHint() > 0 ? "_h" + t.gemmHint() : "");
            int bo = streamGemmColumns(nt);
            int smem = streamGemmShared(nt);
            if (nt == 8 && !t.gemm64().equals("stream_gemm8")) {
                int[] p = CudaTuning.GEMM64.get(t.gemm64());
                if (p == null) throw new IllegalArgumentException("unknown arbor.cuda.gemm64 kernel " + t.gemm64());
                kernel = t.gemm64();
                bo = 16 * p[0] * (8 / p[2]);
                smem = p[1] * (bo * 64 * 2 + (p[3] == 1 ? 2 : 1) * 64 * 64 * 2);
            }
            long units = (long) (out + bo - 1) / bo * slices * (in / STREAM_GEMM_K);
            int grid = (int) Math.min(units, (long) dev.blocksPerSm(kernel, 256, smem) * dev.multiprocessors);
            dev.launchShared(kernel, grid, 1, 1, 256, smem, xHi, xLo, w, bias, y, n, in, out, slices);
        } else if (n <= STREAM_ROWS && in % 16 == 0 && out % 16 == 0) {
            int mt = n <= 16 ? 1 : n <= 32 ? 2 : 4;
            dev.launch("split_bf16", 16 * mt, 1, 1, 256, xIn, norm, eps, gate, xHi, xLo, n, in, null, 0);
            int blocks = (out + 255) / 256;
            int ksteps = in / 16;
            int ksplit = Math.max(1, Math.min((2 * dev.multiprocessors + blocks - 1) / blocks, ksteps / 4));
            if (ksplit > 1 && !accumulate) {
                cuMemsetD32Async(y, 0, (long) n * out, dev.stream);
                acc = 1;
            }
            dev.launch("matmul_tile" + mt, blocks, ksplit, 1, 256, xHi, xLo, w, bias, y, n, in, out, acc);
        } else if (norm != null || gated) {
            throw new IllegalStateException("fused matmul inputs need the tensor-core paths");
        } else if (n <= 64) {
            dev.launch("matmul_mma32", (out + 31) / 32, (n + 31) / 32, 1, 128, xIn, w, bias, y, n, in, out, acc);
        } else {
            dev.launch("matmul_mma64", (out + 63) / 64, (n + 63) / 64, 1, 128, xIn, w, bias, y, n, in, out, acc);
        }
    }

    /**
     * Whether this step's attention takes attention_prefill.cu: from {@link CudaTuning#flashPrefillRows} rows, chunks of
     * 8+ rows on average (decode rows cost it a pass each), a bf16 cache and a head size it has a kernel for.
     */
    private boolean flashPrefill(StepInputs s) {
        int g = config.numHeads() / config.numKvHeads();
        int headDim = config.headDim();
        return t.flashPrefillRows() > 0 && dev.tiledPrefill && s.n() >= t.flashPrefillRows() && s.n() >= 8 * s.seqs()
                && kvBytes == 2
                && config.numHeads() % config.numKvHeads() == 0 && g <= 8
                && (headDim == 32 || headDim == 64 || headDim == 128);
    }

    /** Whether n rows take the wgmma GEMM: on compute capability 9.0, from {@link CudaTuning#hopperGemmRows} rows. */
    private boolean takesHopperGemm(int n, int in, int out) {
        return n > 2 && t.batchKernel().equals("gemm") && in % STREAM_GEMM_K == 0 && out % 16 == 0 && dev.hopper
                && t.hopperGemmRows() > 0 && n >= t.hopperGemmRows();
    }

    /** Output columns per unit of stream_gemm&lt;nt&gt; (stream_gemm.cu's table: 256 up to 24 rows, 128 beyond). */
    private static int streamGemmColumns(int nt) {
        return nt <= 3 ? 256 : 128;
    }

    /** stream_gemm&lt;nt&gt;'s shared memory: its stages of a columns x 64 weight tile and 8*nt x 64 hi and lo x tiles. */
    private static int streamGemmShared(int nt) {
        int stages = nt <= 3 ? 4 : 3;
        return stages * (streamGemmColumns(nt) * 64 * 2 + 2 * 8 * nt * 64 * 2);
    }

    CUdeviceptr ints(int offset) { return meta.withByteOffset(offset * 4L); }

    /** Grows the activation buffers to at least these sizes; true when they moved (captured graphs are then stale). */
    boolean ensureWorkspace(int tokens, int logitRows, int metaInts) {
        boolean moved = false;
        if (tokens > capTokens) {
            int cap = Math.max(tokens, capTokens * 2);
            for (CUdeviceptr p : new CUdeviceptr[]{x, h, qkv, attn, gateUp, act}) dev.free(p);
            long f = 4;
            x = dev.alloc(f * cap * config.hiddenSize(), "activations");
            h = dev.alloc(f * cap * config.hiddenSize(), "activations");
            qkv = dev.alloc(f * cap * qkvDim, "activations");
            attn = dev.alloc(f * cap * config.qDim(), "activations");
            gateUp = dev.alloc(f * cap * 2L * config.intermediateSize(), "activations");
            act = dev.alloc(f * cap * config.intermediateSize(), "activations");
            capTokens = cap;
            moved = true;
        }
        if (logitRows > capLogitRows) {
            int cap = Math.max(logitRows, capLogitRows * 2);
            for (CUdeviceptr p : new CUdeviceptr[]{last, logits, argmax, argmaxPart}) dev.free(p);
            last = dev.alloc(4L * cap * config.hiddenSize(), "final norm rows");
            logits = dev.alloc(4L * cap * config.vocabSize(), "logits");
            argmax = dev.alloc(4L * cap, "sampled ids");
            argmaxPart = dev.alloc(8L * cap * ARGMAX_PARTS, "argmax partials");
            capLogitRows = cap;
            moved = true;
        }
        if (metaInts > capMetaInts) {
            int cap = Math.max(metaInts, capMetaInts * 2);
            dev.free(meta);
            meta = dev.alloc(4L * cap, "step inputs");
            capMetaInts = cap;
            moved = true;
        }
        int splitRows = (Math.max(tokens, Math.max(logitRows, STREAM_ROWS)) + STREAM_ROWS - 1) / STREAM_ROWS * STREAM_ROWS;
        if (splitRows > capSplitRows) {
            // the bf16 hi/lo operand of the tensor-core kernels, padded to whole 64-row slices
            dev.free(xHi);
            dev.free(xLo);
            long maxIn = Math.max(config.hiddenSize(), Math.max(config.qDim(), config.intermediateSize()));
            int cap = Math.max(splitRows, capSplitRows * 2);
            xHi = dev.alloc(2L * cap * maxIn, "bf16 activations");
            xLo = dev.alloc(2L * cap * maxIn, "bf16 activations");
            capSplitRows = cap;
            moved = true;
        }

        if (partAcc == null) {
            // splits are only used while tokens * heads < 2 * SMs, so the partials never exceed this
            long units = 2L * dev.multiprocessors + (long) MAX_SPLITS * config.numHeads();
            partAcc = dev.alloc(4L * units * MAX_SPLITS * config.headDim(), "attention partials");
            partMl = dev.alloc(8L * units * MAX_SPLITS, "attention partials");
        }
        return moved;
    }

    static long workspaceBytes(ModelConfig config, int tokens, int logitRows) {
        long perToken = 2L * config.hiddenSize() + config.qDim() + 2L * config.kvDim() + config.qDim() + 3L * config.intermediateSize()
                + Math.max(config.hiddenSize(), Math.max(config.qDim(), config.intermediateSize())); // + bf16 hi, lo
        long partials = (long) (2 * 132 + 128 * config.numHeads()) * (config.headDim() + 2);
        return 4 * (tokens * perToken + (long) logitRows * (config.hiddenSize() + config.vocabSize() + 1) + partials);
    }

    void free() {
        for (CUdeviceptr p : new CUdeviceptr[]{meta, x, h, qkv, attn, gateUp, act, last, logits, partAcc, partMl, argmax,
                argmaxPart, xHi, xLo, kCache, vCache}) dev.free(p);
    }
}

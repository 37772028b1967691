package ai.arbor.gpu.backend.cuda;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The CUDA backend's kernel choices, in one record: the defaults are what the measurements in
 * {@code gpu/cuda/src/main/cuda/NOTES.md} chose; the benchmark tools (gpu/tools) try others with the withers.
 *
 * @param batchKernel          matmul kernel for 3+ rows: "gemm" (stream_gemm.cu) or "tile" (the older WMMA kernels)
 * @param gemm64               stream_gemm kernel for 49..64 rows: "stream_gemm8" or a {@link #GEMM64} candidate
 * @param attentionSplits      key splits of the grouped attention for 3+ rows (0: the default rule)
 * @param attentionParts       query-head parts per KV head of the non-tensor-core grouped attention (1 or 2)
 * @param gemmHint             stream_gemm's weight-load hint: 0 none, 1 L2 prefetch, 2 evict_first, 3 both
 * @param attentionMma         grouped attention on tensor cores (attention_mma.cu) where it applies
 * @param attentionWarps       warps per block of paged_attention_gqa (4 or 8)
 * @param fuseOSplit           attention_combine also writes the o projection's bf16 hi / lo input
 * @param ropeThreads          threads per block of rope_kv_write
 * @param fuseSmallBatches     one or two rows: SwiGLU folded into the gate/up gemv
 * @param fuseSmallNorm        one or two rows: the input RMSNorm folded into the qkv and gate/up gemvs
 * @param fuseSmallRope        one or two rows, no q/k norm: RoPE and the K/V write in the qkv gemv's epilogue
 * @param splitArgmax          greedy argmax over several blocks per row (argmax_part + argmax_final)
 * @param gemvBlocksPerSm      blocks per SM the gemv's warp split aims for
 * @param smallAttentionSplits per-head decode attention of one or two rows: key splits (0: the default rule)
 * @param groupedAttention     attention grouped by KV head where it applies
 * @param hopperGemmRows       rows from which matmuls take the wgmma GEMM (hopper_gemm.cu) on compute capability 9.0
 *                             instead of stream_gemm; 0 turns it off. 2048: the row count it was timed at on a device
 *                             (NOTES.md); where below that it starts to pay has not been measured
 * @param hopperGemmLo         the wgmma GEMM multiplies x as bf16 hi + lo (as exact as stream_gemm) instead of hi only
 * @param kvCopyRoundMib       MiB of KV blocks per round of the batched block copies (host tier, transfers): each of
 *                             the two staging slots holds that much on the device and as much in pinned host memory,
 *                             set aside from the KV budget; read when the KV cache is allocated
 * @param l2PrefetchMib        on compute capability 9.0, MiB of each layer's o and gate/up weights that L2 is asked to
 *                             fetch while attention runs (it reads little from DRAM); 0 turns it off
 * @param flashPrefillRows     steps of this many rows or more (chunks of 8+ rows on average, bf16 KV cache) take the
 *                             tiled prefill attention (attention_prefill.cu) instead of a block per token; 0 turns it off
 * @param hopperGemmTma        the wgmma GEMM takes its TMA-fed, warp-specialized whole-tile kernels (hopper_gemm_tma.cuh)
 *                             for bf16 weights instead of the cp.async ones
 * @param programmaticLaunch   on compute capability 9.0, the kernels of captured decode graphs are launched with
 *                             programmatic stream serialization (pdl.cuh): each may be launched while the one before
 *                             it finishes
 */
public record CudaTuning(String batchKernel, String gemm64, int attentionSplits, int attentionParts, int gemmHint,
                         boolean attentionMma, int attentionWarps, boolean fuseOSplit, int ropeThreads,
                         boolean fuseSmallBatches, boolean fuseSmallNorm, boolean fuseSmallRope, boolean splitArgmax,
                         int gemvBlocksPerSm, int smallAttentionSplits, boolean groupedAttention,
                         int hopperGemmRows, boolean hopperGemmLo, int kvCopyRoundMib, int l2PrefetchMib,
                         int flashPrefillRows, boolean hopperGemmTma, boolean programmaticLaunch) {

    /** stream_gemm.cu's 64-row candidates: name -> {mw, stages, wn, lo (1: x as hi + lo, 0: hi only)}. */
    static final Map<String, int[]> GEMM64 = new LinkedHashMap<>();

    static {
        GEMM64.put("stream_gemm8", new int[]{2, 3, 2, 1});
        GEMM64.put("stream_gemm8_m2_s2_w2_b3", new int[]{2, 2, 2, 1});
        GEMM64.put("stream_gemm8_m4_s3_w4", new int[]{4, 3, 4, 1});
        GEMM64.put("stream_gemm8_m4_s2_w4_b3", new int[]{4, 2, 4, 1});
        GEMM64.put("stream_gemm8_m4_s2_w2_b2", new int[]{4, 2, 2, 1});
        GEMM64.put("stream_gemm8_m2_s3_w2_b3_hi", new int[]{2, 3, 2, 0});
        GEMM64.put("stream_gemm8_m2_s4_w2_b2_hi", new int[]{2, 4, 2, 0});
        GEMM64.put("stream_gemm8_m4_s2_w2_b2_hi", new int[]{4, 2, 2, 0});
    }

    public CudaTuning {
        if (!batchKernel.equals("gemm") && !batchKernel.equals("tile")) {
            throw new IllegalArgumentException("batch kernel must be gemm or tile, got " + batchKernel);
        }
        if (!GEMM64.containsKey(gemm64)) throw new IllegalArgumentException("unknown 64-row kernel " + gemm64);
        if (gemmHint < 0 || gemmHint > 3) throw new IllegalArgumentException("gemm hint must be 0..3, got " + gemmHint);
        if (hopperGemmRows < 0) throw new IllegalArgumentException("hopper gemm rows must be >= 0, got " + hopperGemmRows);
        if (flashPrefillRows < 0) throw new IllegalArgumentException("flash prefill rows must be >= 0, got " + flashPrefillRows);
        if (l2PrefetchMib < 0) throw new IllegalArgumentException("L2 prefetch must be >= 0 MiB, got " + l2PrefetchMib);
        if (kvCopyRoundMib < 1) throw new IllegalArgumentException("KV copy rounds need >= 1 MiB, got " + kvCopyRoundMib);
        if (attentionWarps != 4 && attentionWarps != 8) {
            throw new IllegalArgumentException("attention warps must be 4 or 8, got " + attentionWarps);
        }
    }

    public static CudaTuning defaults() {
        return new CudaTuning("gemm", "stream_gemm8", 0, 1, 2, true, 4, true, 512, true, true, true, true, 16, 0, true, 2048, true, 32, 0, 0, false, false);
    }

    public CudaTuning withBatchKernel(String k) {
        return new CudaTuning(k, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma, attentionWarps,
                fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax, gemvBlocksPerSm,
                smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withGroupedAttention(boolean on) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, on, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withSmallBatchFusion(boolean glu, boolean norm, boolean rope) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, glu, norm, rope, splitArgmax, gemvBlocksPerSm,
                smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withSplitArgmax(boolean on) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, on,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withGemv(int blocksPerSm, int smallSplits) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                blocksPerSm, smallSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withAttention(int hint, int parts, boolean mma) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, parts, hint, mma, attentionWarps, fuseOSplit,
                ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax, gemvBlocksPerSm,
                smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withHopperGemm(int rows, boolean lo) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, rows, lo, kvCopyRoundMib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withKvCopyRoundMib(int mib) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, mib, l2PrefetchMib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withL2PrefetchMib(int mib) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib, mib, flashPrefillRows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withFlashPrefillRows(int rows) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib,
                l2PrefetchMib, rows, hopperGemmTma, programmaticLaunch);
    }

    public CudaTuning withHopperGemmTma(boolean on) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib,
                l2PrefetchMib, flashPrefillRows, on, programmaticLaunch);
    }

    public CudaTuning withProgrammaticLaunch(boolean on) {
        return new CudaTuning(batchKernel, gemm64, attentionSplits, attentionParts, gemmHint, attentionMma,
                attentionWarps, fuseOSplit, ropeThreads, fuseSmallBatches, fuseSmallNorm, fuseSmallRope, splitArgmax,
                gemvBlocksPerSm, smallAttentionSplits, groupedAttention, hopperGemmRows, hopperGemmLo, kvCopyRoundMib,
                l2PrefetchMib, flashPrefillRows, hopperGemmTma, on);
    }
}

package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The eager steps that `arbor serve` runs besides graph-replayed decode, timed as the product meets them under issue
 * 13's benchmark (128-token prompts, 128 output tokens): a prompt alone (TTFT at concurrency 1), one prompt joining 63
 * decoding sequences (a request replacing a finished one at concurrency 64), and 16 prompts beside 48 decodes (a
 * wave). Each under the tuning in use and with every matmul of 3+ rows through the wgmma GEMM's plan (with and
 * without the tiled prefill attention), so the step-level effect of {@code hopperGemmRows} and {@code
 * flashPrefillRows} shows beside the decode figures. The KV contents are whatever the cache holds, the same for every
 * tuning (a step rewrites only its own rows' slots, with the same tokens), so each tuning's argmax tokens are compared
 * with the first's: a quick check of the other kernels on these shapes (CudaSelfCheck is the real one).
 */
final class StepShapesBench {
    private StepShapesBench() {}

    private record Shape(String name, int decodes, int prompts) {}

    private static final Shape[] SHAPES = {
            new Shape("one 128-token prompt", 0, 1),
            new Shape("63 decodes + one 128-token prompt", 63, 1),
            new Shape("48 decodes + 16 prompts of 128", 48, 16),
    };

    /**
     * @param tables   block tables of at least 64 sequences with room for {@code position + 1} tokens
     * @param position where the decode rows sit (their prefix is in the cache's blocks)
     * @return markdown rows: shape, then ms per step for each tuning
     */
    static List<String> run(CudaBackend gpu, int[][] tables, int position, int prompt, SplittableRandom rnd) {
        CudaTuning tuned = gpu.tuning();
        CudaTuning[] tunings = {tuned, tuned.withHopperGemm(3, true),
                tuned.withHopperGemm(3, true).withFlashPrefillRows(256)};
        List<String> rows = new ArrayList<>();
        rows.add("| eager step (median of 5, ms; rows whose argmax equals the first column's) | tuning in use "
                + "| wgmma GEMM from 3 rows | and tiled prefill attention |");
        rows.add("|---|---|---|---|");
        for (Shape s : SHAPES) {
            List<SequenceChunk> chunks = new ArrayList<>();
            for (int d = 0; d < s.decodes(); d++) {
                chunks.add(new SequenceChunk(new int[]{rnd.nextInt(1000)}, position, tables[d], true));
            }
            for (int p = 0; p < s.prompts(); p++) {
                chunks.add(new SequenceChunk(rnd.ints(prompt, 0, 1000).toArray(), 0, tables[s.decodes() + p], true));
            }
            ForwardBatch batch = new ForwardBatch(chunks);
            StringBuilder row = new StringBuilder("| " + s.name() + " |");
            int[] first = null;
            for (CudaTuning t : tunings) {
                if (t != tuned && !gpu.device().hopper) {
                    row.append(" - |");
                    continue;
                }
                gpu.setTuning(t);
                int[] tokens = gpu.forwardGreedy(batch); // also the warm-up: module loads, scratch sizing
                double ms = medianMillis(gpu, batch);
                if (first == null) {
                    first = tokens;
                    row.append(String.format(" %.2f |", ms));
                } else {
                    int same = 0;
                    for (int i = 0; i < tokens.length; i++) if (tokens[i] == first[i]) same++;
                    row.append(String.format(" %.2f (%d/%d) |", ms, same, tokens.length));
                }
            }
            rows.add(row.toString());
        }
        gpu.setTuning(tuned);
        return rows;
    }

    private static double medianMillis(CudaBackend gpu, ForwardBatch batch) {
        double[] ms = new double[5];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            gpu.forwardGreedy(batch);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }
}

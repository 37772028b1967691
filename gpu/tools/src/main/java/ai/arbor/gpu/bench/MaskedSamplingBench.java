package ai.arbor.gpu.bench;

import ai.arbor.gpu.sample.Sampler;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.sample.TokenMask;
import ai.arbor.structured.ConstraintMatcher;
import ai.arbor.structured.GrammarCompiler;
import ai.arbor.gpu.protocol.OutputConstraint;
import ai.arbor.structured.StructuredOutputs;
import ai.arbor.structured.TokenVocabulary;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The host-side work structured outputs add per decode step at a real vocabulary's width, without a model: 64 rows
 * of random logits sampled freely, then under a JSON schema (mask lookup, mask applied, automaton advanced, a row
 * restarting its document once complete). Random logits make every row wander, the worst case for the per-state mask
 * cache; the first-visit mask builds are reported apart from the steady state.
 *
 * <pre>
 * MaskedSamplingBench --tokenizer DIR [--rows 64] [--steps 400] [--width N]
 * </pre>
 */
public final class MaskedSamplingBench {
    private static final OutputConstraint SCHEMA = OutputConstraint.jsonSchema("""
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":24},
              "age":{"type":"integer","minimum":0,"maximum":120},
              "mood":{"enum":["happy","sad","calm"]},
              "scores":{"type":"array","items":{"type":"number"},"maxItems":4},
              "address":{"type":"object","properties":{"city":{"type":"string","maxLength":16},
                         "zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city","zip"]}},
             "required":["name","age","mood","scores","address"]}""");

    private MaskedSamplingBench() {}

    public static void main(String[] args) {
        Path dir = null;
        int rows = 64;
        int steps = 400;
        int width = -1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--tokenizer" -> dir = Path.of(args[i + 1]);
                case "--rows" -> rows = Integer.parseInt(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--width" -> width = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (known: --tokenizer --rows --steps --width)");
            }
        }
        if (dir == null) throw new IllegalArgumentException("--tokenizer DIR (holding tokenizer.json) is required");
        long t0 = System.nanoTime();
        TokenVocabulary vocab = TokenVocabulary.load(dir);
        long t1 = System.nanoTime();
        int w = width > 0 ? width : vocab.size();
        int eos = vocab.size() - 1;
        GrammarCompiler compiler = new GrammarCompiler(4);
        compiler.validate(SCHEMA);
        long tc = System.nanoTime();
        StructuredOutputs so = new StructuredOutputs(() -> vocab, w, new int[] {eos}, compiler, 4);
        so.matcher(SCHEMA);
        long t2 = System.nanoTime();
        so.matcher(SCHEMA).allowedTokens();
        System.out.printf(Locale.ROOT, "vocabulary of %d tokens (width %d) read in %.0f ms; schema compiled in %.0f ms;"
                + " token trie built in %.0f ms; first mask in %.1f ms%n", vocab.size(), w, (t1 - t0) / 1e6,
                (tc - t1) / 1e6, (t2 - tc) / 1e6, (System.nanoTime() - t2) / 1e6);
        SamplingParams p = new SamplingParams(1.0, 1, 0, 0, 1L, 0, 0, 1, 1 << 20, 0, true, new int[0], List.of(), null);
        // Rounds: free, constrained (cold caches), then both again (warm) to time the steady state.
        for (String round : List.of("cold", "warm")) {
            double[] free = run(null, so, p, rows, steps, w);
            double[] constrained = run(SCHEMA, so, p, rows, steps, w);
            System.out.printf(Locale.ROOT, "%s: %d rows, free sampling %.3f ms/step; json_schema: mask lookup+apply+advance"
                    + " %.3f ms/step (%.1f%% of free sampling), masked sampling %.3f ms/step%n", round, rows, free[1],
                    constrained[0], 100 * constrained[0] / free[1], constrained[1]);
        }
    }

    /** Mean ms per step of {constraint work, sampling} over {@code rows} rows. */
    private static double[] run(OutputConstraint c, StructuredOutputs so, SamplingParams p, int rows, int steps, int width) {
        SplittableRandom rng = new SplittableRandom(5);
        Sampler sampler = new Sampler();
        ConstraintMatcher[] m = new ConstraintMatcher[rows];
        float[][] logits = new float[rows][width];
        float[] source = new float[width];
        for (int i = 0; i < width; i++) source[i] = (float) (rng.nextGaussian() * 3);
        int[] none = new int[0];
        int[] tokens = new int[1];
        long constraintNanos = 0;
        long samplingNanos = 0;
        for (int s = 0; s < steps; s++) {
            // New logits each step: rows shift a shared random row, so sampling work matches across modes.
            int shift = rng.nextInt(width);
            for (int r = 0; r < rows; r++) {
                int k = (shift + 31 * r) % width;
                System.arraycopy(source, k, logits[r], 0, width - k);
                System.arraycopy(source, 0, logits[r], width - k, k);
            }
            for (int r = 0; r < rows; r++) {
                long t0 = System.nanoTime();
                if (c != null) {
                    if (m[r] == null || m[r].isDone()) m[r] = so.matcher(c);
                    TokenMask.apply(logits[r], m[r].allowedTokens());
                }
                long t1 = System.nanoTime();
                int t = sampler.sample(logits[r], p, tokens, 0, 0, none, rng).tokenId();
                long t2 = System.nanoTime();
                if (c != null && !m[r].accept(t)) throw new IllegalStateException("sampled a forbidden token " + t);
                constraintNanos += (t1 - t0) + (System.nanoTime() - t2);
                samplingNanos += t2 - t1;
            }
        }
        return new double[] {constraintNanos / 1e6 / steps, samplingNanos / 1e6 / steps};
    }
}

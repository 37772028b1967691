package ai.arbor.cluster.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * {@code groups} groups of {@code perGroup} prompts; every prompt of a group starts with the group's common prefix of
 * {@code prefixLen} tokens and ends with its own suffix of {@code suffixLen} tokens. The prompts are shuffled so the
 * groups interleave in time: the workload where routing by KV-cache overlap pays, as in vLLM's prefix_repetition.
 */
public final class SharedPrefixDataset implements Dataset {
    private final PromptTokenizer tokenizer;
    private final int groups;
    private final int perGroup;
    private final int prefixLen;
    private final int suffixLen;
    private final int outputLen;
    private final long seed;

    public SharedPrefixDataset(PromptTokenizer tokenizer, int groups, int perGroup, int prefixLen, int suffixLen,
                               int outputLen, long seed) {
        this.tokenizer = tokenizer;
        this.groups = groups;
        this.perGroup = perGroup;
        this.prefixLen = prefixLen;
        this.suffixLen = suffixLen;
        this.outputLen = outputLen;
        this.seed = seed;
    }

    @Override
    public List<BenchPrompt> prompts() {
        RandomPrompts gen = new RandomPrompts(tokenizer);
        SplittableRandom random = new SplittableRandom(seed);
        List<BenchPrompt> out = new ArrayList<>(groups * perGroup);
        for (int g = 0; g < groups; g++) {
            RandomPrompts.Piece prefix = gen.next(prefixLen, random);
            for (int i = 0; i < perGroup; i++) {
                RandomPrompts.Piece suffix = gen.next(suffixLen, random);
                // A newline between the two keeps the prefix's tokens from merging with the suffix's in chat text.
                String text = prefix.text() + "\n" + suffix.text();
                int[] ids = new int[prefix.ids().length + suffix.ids().length];
                System.arraycopy(prefix.ids(), 0, ids, 0, prefix.ids().length);
                System.arraycopy(suffix.ids(), 0, ids, prefix.ids().length, suffix.ids().length);
                out.add(BenchPrompt.ofText(text, ids, outputLen, g));
            }
        }
        Collections.shuffle(out, new Random(seed));
        return out;
    }
}

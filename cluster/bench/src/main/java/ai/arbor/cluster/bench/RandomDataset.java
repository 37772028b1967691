package ai.arbor.cluster.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** {@code n} independent prompts of {@code inputLen} random tokens each: no two share a prefix worth caching. */
public final class RandomDataset implements Dataset {
    private final PromptTokenizer tokenizer;
    private final int n;
    private final int inputLen;
    private final int outputLen;
    private final long seed;

    public RandomDataset(PromptTokenizer tokenizer, int n, int inputLen, int outputLen, long seed) {
        this.tokenizer = tokenizer;
        this.n = n;
        this.inputLen = inputLen;
        this.outputLen = outputLen;
        this.seed = seed;
    }

    @Override
    public List<BenchPrompt> prompts() {
        RandomPrompts gen = new RandomPrompts(tokenizer);
        SplittableRandom random = new SplittableRandom(seed);
        List<BenchPrompt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            RandomPrompts.Piece p = gen.next(inputLen, random);
            out.add(BenchPrompt.ofText(p.text(), p.ids(), outputLen, -1));
        }
        return out;
    }
}

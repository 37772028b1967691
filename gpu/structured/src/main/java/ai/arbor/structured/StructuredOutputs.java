package ai.arbor.structured;

import ai.arbor.gpu.protocol.OutputConstraint;
import java.util.function.Supplier;

/**
 * Structured outputs for one model: compiles constraints against its vocabulary and hands each constrained sequence
 * a {@link ConstraintMatcher}. The vocabulary is read on first use, so unconstrained serving never pays for it.
 * Lifted grammars are cached per constraint (bounded, least recently used first out); each caches its masks per state,
 * so sequences under the same schema share them.
 */
public final class StructuredOutputs {
    private final Supplier<TokenVocabulary> vocabulary;
    private final int width;
    private final int[] eosTokenIds;
    private final GrammarCompiler compiler;
    private final BoundedCache<OutputConstraint, TokenAutomaton> automata;
    private volatile TokenVocabulary vocab;

    /**
     * @param vocabulary  read once, on the first constrained request
     * @param width       the model's logit row length (config {@code vocab_size}, at least the tokenizer's size)
     * @param cacheSize   how many compiled grammars to keep
     */
    public StructuredOutputs(Supplier<TokenVocabulary> vocabulary, int width, int[] eosTokenIds,
                             GrammarCompiler compiler, int cacheSize) {
        this.vocabulary = vocabulary;
        this.width = width;
        this.eosTokenIds = eosTokenIds.clone();
        this.compiler = compiler;
        this.automata = new BoundedCache<>(cacheSize);
    }

    /**
     * A matcher at the start of the constraint. Compiles it on first use, which can take a while for a large schema.
     *
     * @throws ConstraintException when the constraint cannot be compiled
     */
    public ConstraintMatcher matcher(OutputConstraint constraint) {
        return new ConstraintMatcher(automata.get(constraint, this::lift));
    }

    private TokenAutomaton lift(OutputConstraint c) {
        return new TokenAutomaton(compiler.compile(c), vocabulary(), width, eosTokenIds);
    }

    private TokenVocabulary vocabulary() {
        TokenVocabulary v = vocab;
        if (v == null) {
            synchronized (this) {
                if (vocab == null) vocab = vocabulary.get();
                v = vocab;
            }
        }
        return v;
    }
}

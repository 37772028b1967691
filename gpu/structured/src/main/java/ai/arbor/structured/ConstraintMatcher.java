package ai.arbor.structured;

/**
 * One sequence's position in its constraint: which tokens may come next, advanced by each token the sequence takes.
 * Belongs to the engine thread, like the sequence.
 */
public final class ConstraintMatcher {
    private final TokenAutomaton automaton;
    private long state;
    private boolean ended;

    ConstraintMatcher(TokenAutomaton automaton) {
        this.automaton = automaton;
        this.state = automaton.initial();
    }

    /**
     * The tokens allowed next, as a bitmask of {@code ceil(vocab/32)} ints (bit {@code t % 32} of word {@code t / 32}
     * for token t). Shared with other sequences in the same state: never write it.
     */
    public int[] allowedTokens() { return automaton.mask(state); }

    /** True when token t is allowed next. */
    public boolean allows(int token) {
        int[] m = allowedTokens();
        return token >= 0 && token < automaton.width() && (m[token >>> 5] & (1 << (token & 31))) != 0;
    }

    /**
     * Moves past token t.
     *
     * @return false (and nothing changes) when t is not allowed here
     */
    public boolean accept(int token) {
        if (ended) return false;
        if (automaton.isEos(token)) {
            if (!automaton.isAccepting(state)) return false;
            ended = true;
            return true;
        }
        long next = automaton.advance(state, token);
        if (next == TokenAutomaton.DEAD) return false;
        state = next;
        return true;
    }

    /** True when the text so far is a complete match (EOS may come now). */
    public boolean isAccepting() { return automaton.isAccepting(state); }

    /** True when the output is complete: it matches and nothing may follow, or EOS was taken. */
    public boolean isDone() { return ended || automaton.isFinal(state); }

    /** Width of the masks: the model's logit row length. */
    public int vocabWidth() { return automaton.width(); }
}

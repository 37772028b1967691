package ai.arbor.structured;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The most adversarial "model" there is: each step picks uniformly among the tokens the mask allows (EOS, once
 * allowed, with a fixed chance). Whatever it writes must still satisfy the constraint.
 */
final class RandomWalk {
    private RandomWalk() {}

    /** The text of one walk, or null when it ran past {@code maxTokens} before the constraint let it end. */
    static String walk(ConstraintMatcher m, TokenVocabulary vocab, int eos, SplittableRandom rng, int maxTokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int step = 0; step < maxTokens; step++) {
            if (m.isDone()) return out.toString(StandardCharsets.UTF_8);
            int[] mask = m.allowedTokens();
            if (m.isAccepting() && rng.nextInt(4) == 0) {
                if (!m.allows(eos) || !m.accept(eos)) throw new AssertionError("EOS refused in an accepting state");
                return out.toString(StandardCharsets.UTF_8);
            }
            int token = pick(mask, eos, rng);
            if (token < 0) throw new AssertionError("no token allowed after '" + out.toString(StandardCharsets.UTF_8) + "'");
            if (!m.accept(token)) throw new AssertionError("the matcher refused token " + token + " that its mask allowed");
            out.writeBytes(vocab.bytes(token));
        }
        return null;
    }

    /** A uniformly random set bit other than EOS, or -1. */
    static int pick(int[] mask, int eos, SplittableRandom rng) {
        int count = 0;
        for (int w : mask) count += Integer.bitCount(w);
        boolean eosAllowed = (mask[eos >>> 5] & (1 << (eos & 31))) != 0;
        if (eosAllowed) count--;
        if (count <= 0) return -1;
        int k = rng.nextInt(count);
        for (int w = 0; w < mask.length; w++) {
            int bits = mask[w];
            while (bits != 0) {
                int b = Integer.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                int t = (w << 5) + b;
                if (t == eos) continue;
                if (k-- == 0) return t;
            }
        }
        return -1;
    }
}

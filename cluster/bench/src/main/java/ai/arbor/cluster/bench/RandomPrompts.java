package ai.arbor.cluster.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Builds text of a target token length from random vocabulary entries. Decoding random ids and encoding the text again
 * rarely gives the same ids (neighbouring pieces merge), so the text is trimmed or extended until its re-encoding has
 * the target length, or the closest length reached in a few rounds.
 */
final class RandomPrompts {
    private static final int ROUNDS = 8;

    private final PromptTokenizer tokenizer;
    private final int[] ordinary;

    RandomPrompts(PromptTokenizer tokenizer) {
        this.tokenizer = tokenizer;
        int[] ids = new int[tokenizer.vocabSize()];
        int n = 0;
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (tokenizer.isOrdinary(id)) {
                ids[n++] = id;
            }
        }
        if (n == 0) {
            throw new BenchException("the tokenizer has no ordinary tokens to build random prompts from");
        }
        this.ordinary = Arrays.copyOf(ids, n);
    }

    /** Text and its token ids, as close to {@code length} tokens as the tokenizer allows. */
    Piece next(int length, SplittableRandom random) {
        if (length <= 0) {
            return new Piece("", new int[0]);
        }
        int[] ids = randomIds(length, random);
        String text = tokenizer.decode(ids);
        int[] encoded = tokenizer.encode(text);
        Piece best = new Piece(text, encoded);
        for (int round = 0; round < ROUNDS && encoded.length != length; round++) {
            if (encoded.length > length) {
                ids = Arrays.copyOf(encoded, length);
            } else {
                int[] more = randomIds(length - encoded.length, random);
                ids = Arrays.copyOf(encoded, length);
                System.arraycopy(more, 0, ids, encoded.length, more.length);
            }
            text = tokenizer.decode(ids);
            encoded = tokenizer.encode(text);
            if (Math.abs(encoded.length - length) < Math.abs(best.ids().length - length)) {
                best = new Piece(text, encoded);
            }
        }
        return encoded.length == length ? new Piece(text, encoded) : best;
    }

    private int[] randomIds(int n, SplittableRandom random) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = ordinary[random.nextInt(ordinary.length)];
        }
        return ids;
    }

    record Piece(String text, int[] ids) { }
}

package ai.arbor.cluster.bench;

import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.tokenizer.HfTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.regex.Pattern;

/**
 * A model's Hugging Face tokenizer as a {@link PromptTokenizer}. Random prompts are drawn from the vocabulary's plain
 * word pieces (letters, optionally after the byte-level or SentencePiece space marker), which decode to readable text
 * and encode back to themselves; byte fragments and special tokens would make lengths drift and prompts odd.
 */
public final class HfPromptTokenizer implements PromptTokenizer, AutoCloseable {
    private static final Pattern WORD_PIECE = Pattern.compile("^(\u0120|\u2581)?[A-Za-z]{2,}$");
    private static final int MIN_WORDS = 100;

    private final HfTokenizer tokenizer;
    private final BitSet ordinary = new BitSet();

    private HfPromptTokenizer(HfTokenizer tokenizer) {
        this.tokenizer = tokenizer;
        BitSet words = new BitSet();
        BitSet plain = new BitSet();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            String piece = tokenizer.token(id);
            if (piece == null || tokenizer.isSpecial(id)) {
                continue;
            }
            plain.set(id);
            if (WORD_PIECE.matcher(piece).matches()) {
                words.set(id);
            }
        }
        ordinary.or(words.cardinality() >= MIN_WORDS ? words : plain);
    }

    /** Loads the tokenizer of a model directory. */
    public static HfPromptTokenizer load(Path dir) {
        if (!Files.isRegularFile(dir.resolve(HfTokenizer.FILE))) {
            throw new BenchException("no " + HfTokenizer.FILE + " in " + dir.toAbsolutePath().normalize()
                    + " (pass --tokenizer with a model directory)");
        }
        try {
            return new HfPromptTokenizer(HfTokenizer.load(dir));
        } catch (ModelLoadException | IllegalArgumentException e) {
            throw new BenchException("cannot load the tokenizer of " + dir + ": " + e.getMessage());
        }
    }

    @Override
    public int[] encode(String text) { return tokenizer.encodeNoSpecial(text); }

    @Override
    public String decode(int[] ids) { return tokenizer.decode(ids, true); }

    @Override
    public int vocabSize() { return tokenizer.vocabSize(); }

    @Override
    public boolean isOrdinary(int id) { return ordinary.get(id); }

    @Override
    public void close() { tokenizer.close(); }
}

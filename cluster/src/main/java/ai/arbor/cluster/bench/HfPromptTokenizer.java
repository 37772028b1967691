package ai.arbor.cluster.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Hugging Face {@code tokenizer.json} as a {@link PromptTokenizer}. Random prompts are drawn from the vocabulary's
 * plain word pieces (letters, optionally after the byte-level or SentencePiece space marker), which decode to readable
 * text and encode back to themselves; byte fragments and special tokens would make lengths drift and prompts odd.
 */
public final class HfPromptTokenizer implements PromptTokenizer, AutoCloseable {
    private static final Pattern WORD_PIECE = Pattern.compile("^(\u0120|\u2581)?[A-Za-z]{2,}$");
    private static final int MIN_WORDS = 100;

    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final BitSet ordinary = new BitSet();

    private HfPromptTokenizer(HuggingFaceTokenizer tokenizer, JsonNode json) {
        this.tokenizer = tokenizer;
        BitSet special = new BitSet();
        int size = 0;
        for (JsonNode added : json.path("added_tokens")) {
            int id = added.path("id").asInt();
            size = Math.max(size, id + 1);
            if (added.path("special").asBoolean(true)) {
                special.set(id);
            }
        }
        JsonNode vocab = json.path("model").path("vocab");
        BitSet words = new BitSet();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            // Unigram vocabularies are [piece, score] pairs in a list, handled below; BPE and WordPiece map piece -> id.
            int id = e.getValue().asInt();
            size = Math.max(size, id + 1);
            if (WORD_PIECE.matcher(e.getKey()).matches() && !special.get(id)) {
                words.set(id);
            }
        }
        if (vocab.isArray()) {
            for (int id = 0; id < vocab.size(); id++) {
                String piece = vocab.get(id).path(0).asText();
                size = Math.max(size, id + 1);
                if (WORD_PIECE.matcher(piece).matches() && !special.get(id)) {
                    words.set(id);
                }
            }
        }
        this.vocabSize = size;
        if (words.cardinality() >= MIN_WORDS) {
            ordinary.or(words);
        } else {
            ordinary.set(0, size);
            ordinary.andNot(special);
        }
    }

    /** Loads {@code dir/tokenizer.json} (or the file itself when given one). */
    public static HfPromptTokenizer load(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("tokenizer.json") : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new BenchException("no tokenizer.json at " + file + " (pass --tokenizer with a model directory)");
        }
        try {
            JsonNode json = new ObjectMapper().readTree(file.toFile());
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new HfPromptTokenizer(tok, json);
        } catch (IOException | RuntimeException e) {
            throw new BenchException("cannot load tokenizer " + file + ": " + e.getMessage());
        }
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    @Override
    public int vocabSize() { return vocabSize; }

    @Override
    public boolean isOrdinary(int id) { return ordinary.get(id); }

    @Override
    public void close() {
        tokenizer.close();
    }
}

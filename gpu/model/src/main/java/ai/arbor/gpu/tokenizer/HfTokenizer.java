package ai.arbor.gpu.tokenizer;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}) through DJL's binding of the Rust tokenizers library.
 *
 * <p>Special tokens around a plain {@link #encode} follow one rule, the one transformers' fast tokenizers follow:
 * an explicit {@code add_bos_token}/{@code add_eos_token} in {@code tokenizer_config.json} decides; where the file is
 * silent, the {@code TemplateProcessing} post-processor of {@code tokenizer.json} decides (Llama 3 adds
 * {@code <|begin_of_text|>} that way; Qwen2's ByteLevel post-processor adds nothing). DJL itself is built with special
 * tokens off so that the rule is applied here, once, and so it never truncates (its default is 512 tokens).
 *
 * <p>DJL copies its native library to {@code $DJL_CACHE_DIR} (default {@code ~/.djl.ai}, or {@code java.io.tmpdir}
 * when the home directory is not writable) the first time a tokenizer loads. Encoding and decoding are thread-safe
 * (the Rust tokenizer is immutable once built).
 */
public final class HfTokenizer implements AutoCloseable {
    public static final String FILE = "tokenizer.json";

    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerConfig config;
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> specialTokens;
    private final Set<Integer> specialIds;
    private final String[] idToToken;
    private final int[] prefix;
    private final int[] suffix;
    private final Integer bosId;
    private final Integer eosId;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, TokenizerConfig config, Map<String, Integer> vocab,
                        Map<String, Integer> specialTokens, int[] prefix, int[] suffix) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.vocab = vocab;
        this.specialTokens = Collections.unmodifiableMap(specialTokens);
        this.specialIds = Set.copyOf(specialTokens.values());
        int max = -1;
        for (int id : vocab.values()) max = Math.max(max, id);
        this.idToToken = new String[max + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) idToToken[e.getValue()] = e.getKey();
        this.prefix = prefix;
        this.suffix = suffix;
        this.bosId = config.bosToken() == null ? null : vocab.get(config.bosToken());
        this.eosId = config.eosToken() == null ? null : vocab.get(config.eosToken());
    }

    /** Loads {@code tokenizer.json} (required) and {@code tokenizer_config.json} (optional) from a model directory. */
    public static HfTokenizer load(Path dir) {
        Path file = dir.resolve(FILE);
        JsonNode root = JsonFiles.read(file);
        if (!root.isObject()) throw new ModelLoadException(file, null, "expected a JSON object");
        TokenizerConfig config = TokenizerConfig.load(dir);

        Map<String, Integer> vocab = new HashMap<>();
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) throw new ModelLoadException(file, "model", "required object is missing");
        JsonNode v = model.get("vocab");
        if (v != null && v.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                vocab.put(e.getKey(), e.getValue().asInt());
            }
        } else if (v != null && v.isArray()) { // Unigram: [[piece, score], ...], the id is the index
            for (int i = 0; i < v.size(); i++) vocab.put(v.get(i).get(0).asText(), i);
        } else {
            throw new ModelLoadException(file, "model.vocab", "required field is missing");
        }
        Map<String, Integer> special = new LinkedHashMap<>();
        JsonNode added = root.get("added_tokens");
        if (added != null && added.isArray()) {
            for (JsonNode t : added) {
                if (!t.hasNonNull("content") || !t.hasNonNull("id"))
                    throw new ModelLoadException(file, "added_tokens", "entry without content or id: " + t);
                vocab.put(t.get("content").asText(), t.get("id").asInt());
                if (t.path("special").asBoolean(false)) special.put(t.get("content").asText(), t.get("id").asInt());
            }
        }

        List<Integer> pre = new ArrayList<>(), post = new ArrayList<>();
        postProcessorTemplate(file, root.get("post_processor"), pre, post);
        Integer bos = config.bosToken() == null ? null : vocab.get(config.bosToken());
        Integer eos = config.eosToken() == null ? null : vocab.get(config.eosToken());
        if (config.addBosToken() != null) {
            if (bos != null) pre.remove(bos);
            if (config.addBosToken()) {
                if (bos == null)
                    throw new ModelLoadException(config.file(), "add_bos_token", "true, but bos_token is not in the vocabulary");
                pre.add(0, bos);
            }
        }
        if (config.addEosToken() != null) {
            if (eos != null) post.remove(eos);
            if (config.addEosToken()) {
                if (eos == null)
                    throw new ModelLoadException(config.file(), "add_eos_token", "true, but eos_token is not in the vocabulary");
                post.add(eos);
            }
        }

        HuggingFaceTokenizer tok;
        try {
            tok = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException(file, null, "the tokenizers library rejected it: " + e.getMessage(), e);
        }
        return new HfTokenizer(tok, config, vocab, special, toArray(pre), toArray(post));
    }

    /**
     * The special tokens a TemplateProcessing post-processor puts before and after a single sequence (directly or
     * inside a Sequence of processors).
     */
    private static void postProcessorTemplate(Path file, JsonNode pp, List<Integer> pre, List<Integer> post) {
        if (pp == null || pp.isNull()) return;
        String type = pp.path("type").asText();
        if (type.equals("Sequence")) {
            for (JsonNode p : pp.path("processors")) postProcessorTemplate(file, p, pre, post);
            return;
        }
        if (!type.equals("TemplateProcessing")) return;
        JsonNode single = pp.path("single");
        JsonNode specials = pp.path("special_tokens");
        boolean seenSequence = false;
        for (JsonNode piece : single) {
            if (piece.has("Sequence")) {
                seenSequence = true;
                continue;
            }
            String id = piece.path("SpecialToken").path("id").asText(null);
            JsonNode ids = specials.path(id).path("ids");
            if (id == null || !ids.isArray())
                throw new ModelLoadException(file, "post_processor.single", "special token '" + id + "' has no ids");
            for (JsonNode i : ids) (seenSequence ? post : pre).add(i.asInt());
        }
    }

    private static int[] toArray(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Token ids of a prompt, with the BOS/EOS this tokenizer adds to a plain text (see the class comment). */
    public int[] encode(String text) {
        int[] body = encodeNoSpecial(text);
        if (prefix.length == 0 && suffix.length == 0) return body;
        int[] out = new int[prefix.length + body.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
        System.arraycopy(suffix, 0, out, prefix.length + body.length, suffix.length);
        return out;
    }

    /** Token ids of a text with nothing added (chat-template output already holds its special tokens). */
    public int[] encodeNoSpecial(String text) {
        return IdsOnlyEncoder.encode(tokenizer, text, false);
    }

    /** Like {@link #encodeNoSpecial} through DJL's full {@code Encoding}: what the fast path must equal (tests). */
    int[] encodeNoSpecialThroughDjl(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids, 0, ids.length, skipSpecialTokens);
    }

    /** Decodes {@code ids[from, to)} without copying the caller's array into a new int[] first. */
    public String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
        long[] l = new long[to - from];
        for (int i = from; i < to; i++) l[i - from] = ids[i];
        return tokenizer.decode(l, skipSpecialTokens);
    }

    /** Number of ids the tokenizer can produce (base vocabulary plus added tokens), like {@code len(tokenizer)}. */
    public int vocabSize() { return idToToken.length; }

    public OptionalInt bosTokenId() { return bosId == null ? OptionalInt.empty() : OptionalInt.of(bosId); }

    public OptionalInt eosTokenId() { return eosId == null ? OptionalInt.empty() : OptionalInt.of(eosId); }

    public String bosToken() { return config.bosToken(); }

    public String eosToken() { return config.eosToken(); }

    /** The id of a token by its vocabulary string (e.g. {@code <|im_end|>}), as stored in tokenizer.json. */
    public OptionalInt tokenId(String token) {
        Integer id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The vocabulary string of an id, or null for an id the tokenizer does not know. */
    public String token(int id) { return id >= 0 && id < idToToken.length ? idToToken[id] : null; }

    /** Special added tokens (content to id), in tokenizer.json order. */
    public Map<String, Integer> specialTokens() { return specialTokens; }

    public boolean isSpecial(int id) { return specialIds.contains(id); }

    public TokenizerConfig config() { return config; }

    @Override
    public void close() { tokenizer.close(); }
}

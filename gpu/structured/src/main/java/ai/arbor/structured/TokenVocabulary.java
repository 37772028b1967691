package ai.arbor.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * The byte string each token id stands for, read from a Hugging Face {@code tokenizer.json}: byte-level BPE tokens
 * through GPT-2's byte-to-unicode table, SentencePiece-style ones with {@code ▁} as a space and {@code <0xNN>} byte
 * fallbacks. Special tokens have no bytes (null): they are never text, so a constraint can only allow them as EOS.
 * Tokens must be compared as bytes, not strings, because a byte-level token can hold half of a UTF-8 character.
 */
public final class TokenVocabulary {
    private final byte[][] bytes;
    private volatile TokenTrie trie;

    public TokenVocabulary(byte[][] bytes) { this.bytes = bytes.clone(); }

    public static TokenVocabulary load(Path modelDir) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(modelDir.resolve("tokenizer.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer of " + modelDir, e);
        }
        boolean byteLevel = root.path("decoder").toString().contains("ByteLevel")
                || root.path("pre_tokenizer").toString().contains("ByteLevel");
        int[] unicodeToByte = byteLevel ? gpt2UnicodeToByte() : null;
        JsonNode vocab = root.path("model").path("vocab");
        int size = 0;
        for (JsonNode id : vocab) size = Math.max(size, id.asInt() + 1);
        for (JsonNode t : root.path("added_tokens")) size = Math.max(size, t.path("id").asInt() + 1);
        byte[][] bytes = new byte[size][];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            bytes[e.getValue().asInt()] = byteLevel ? fromByteLevel(e.getKey(), unicodeToByte) : fromSentencePiece(e.getKey());
        }
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt();
            bytes[id] = t.path("special").asBoolean(false) ? null : t.path("content").asText().getBytes(StandardCharsets.UTF_8);
        }
        return new TokenVocabulary(bytes);
    }

    /** Number of token ids with an entry (text or special). */
    public int size() { return bytes.length; }

    /** The token's bytes, or null for a special token or an unused id. */
    public byte[] bytes(int token) { return token >= 0 && token < bytes.length ? bytes[token] : null; }

    TokenTrie trie() {
        TokenTrie t = trie;
        if (t == null) {
            synchronized (this) {
                if (trie == null) trie = new TokenTrie(bytes);
                t = trie;
            }
        }
        return t;
    }

    private static byte[] fromByteLevel(String token, int[] unicodeToByte) {
        byte[] out = new byte[token.length()];
        int n = 0;
        for (int k = 0; k < token.length(); k++) {
            char c = token.charAt(k);
            int b = c < unicodeToByte.length ? unicodeToByte[c] : -1;
            // Not in GPT-2's table: a token added as literal text; keep its UTF-8.
            if (b < 0) return token.getBytes(StandardCharsets.UTF_8);
            out[n++] = (byte) b;
        }
        return Arrays.copyOf(out, n);
    }

    private static byte[] fromSentencePiece(String token) {
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // an ordinary token that happens to look like a byte
            }
        }
        return token.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** GPT-2's {@code bytes_to_unicode}, inverted: printable bytes map to themselves, the rest to 256 and up. */
    private static int[] gpt2UnicodeToByte() {
        int[] table = new int[512];
        Arrays.fill(table, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[printable ? b : next++] = b;
        }
        return table;
    }
}

package ai.arbor.gpu.tokenizer;

import java.util.Arrays;

/**
 * Turns generated token ids into text deltas as they arrive. Byte-level BPE splits multi-byte characters across
 * tokens, so a delta is only released once the decoded window no longer ends in U+FFFD (an incomplete UTF-8
 * sequence); a prefix of already-emitted tokens is decoded along with the new ones so that decoders whose output
 * depends on context (SentencePiece's leading space, cleanup of spaces) agree with a full decode. This is the
 * prefix/read-offset scheme of vLLM's and TGI's detokenizers: each step decodes a few tokens, never the whole output.
 *
 * <p>Not thread-safe: one instance per sequence, driven by the thread that steps it.
 */
public final class IncrementalDetokenizer {
    /** Prompt tokens kept as decoding context, as in vLLM (INITIAL_INCREMENTAL_DETOKENIZATION_OFFSET). */
    static final int CONTEXT_TOKENS = 5;
    private static final char REPLACEMENT = '\uFFFD';

    private final HfTokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids;
    private int size;
    private int prefixOffset;
    private int readOffset;
    private final StringBuilder text = new StringBuilder();

    /** Skips special tokens, like an OpenAI-style server's default. */
    public IncrementalDetokenizer(HfTokenizer tokenizer, int[] promptIds) {
        this(tokenizer, promptIds, true);
    }

    public IncrementalDetokenizer(HfTokenizer tokenizer, int[] promptIds, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
        int from = Math.max(0, promptIds.length - CONTEXT_TOKENS);
        this.ids = new int[Math.max(16, promptIds.length - from + 16)];
        for (int i = from; i < promptIds.length; i++) {
            if (skipSpecialTokens && tokenizer.isSpecial(promptIds[i])) continue;
            ids[size++] = promptIds[i];
        }
        this.prefixOffset = 0;
        this.readOffset = size;
    }

    /** Adds one generated token; returns the text it completes (often "", never half a character). */
    public String push(int tokenId) {
        // Dropping a skipped special token before decoding is exactly what decode(skip_special_tokens=True) does.
        if (skipSpecialTokens && tokenizer.isSpecial(tokenId)) return "";
        if (size == ids.length) compactOrGrow();
        ids[size++] = tokenId;
        String prefixText = tokenizer.decode(ids, prefixOffset, readOffset, skipSpecialTokens);
        String newText = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens);
        // Like vLLM, the prefix is cut by length: a decoder that rewrites the context (cleanup of spaces) must not
        // stall the stream.
        if (newText.length() > prefixText.length() && newText.charAt(newText.length() - 1) != REPLACEMENT) {
            String delta = newText.substring(prefixText.length());
            prefixOffset = readOffset;
            readOffset = size;
            text.append(delta);
            return delta;
        }
        return "";
    }

    /**
     * Releases whatever is still held back once the sequence ends: an incomplete character at the very end then
     * decodes to U+FFFD, exactly as a full decode of the output would.
     */
    public String flush() {
        if (readOffset == size) return "";
        String prefixText = tokenizer.decode(ids, prefixOffset, readOffset, skipSpecialTokens);
        String newText = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens);
        String delta = newText.length() > prefixText.length() ? newText.substring(prefixText.length()) : "";
        prefixOffset = readOffset;
        readOffset = size;
        text.append(delta);
        return delta;
    }

    /** All text emitted so far. */
    public String text() { return text.toString(); }

    /** Tokens the next push decodes (twice): bounded, so streaming cost per token does not grow with the output. */
    int decodeWindow() { return size - prefixOffset + 1; }

    /** Tokens before prefixOffset are never decoded again: drop them instead of growing without bound. */
    private void compactOrGrow() {
        if (prefixOffset > 0) {
            System.arraycopy(ids, prefixOffset, ids, 0, size - prefixOffset);
            size -= prefixOffset;
            readOffset -= prefixOffset;
            prefixOffset = 0;
        }
        if (size == ids.length) ids = Arrays.copyOf(ids, ids.length * 2);
    }
}

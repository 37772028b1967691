package ai.arbor.actors.frontend;

/** Turns an output's token ids into text as they arrive, never emitting half of a multi-byte character. */
public interface TextDecoder {
    /** The new text {@code tokenId} completes (may be empty while a character is incomplete). */
    String next(int tokenId);

    /** At the end of the output: text still held back (an incomplete character decodes to U+FFFD). */
    String flush();
}

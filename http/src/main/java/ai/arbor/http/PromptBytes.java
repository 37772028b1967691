package ai.arbor.http;

/**
 * The byte bound a prompt passes before it is tokenized: tokenizing takes time in proportion to the text, so a 4 MB
 * prompt that can never fit the context is refused from its length alone, in microseconds rather than seconds.
 */
final class PromptBytes {
    private PromptBytes() {}

    /** Refuses {@code bytes} of prompt text that cannot fit {@code maxModelLen} tokens of at most that many bytes. */
    static void check(long bytes, int maxModelLen, int maxBytesPerToken, String param) {
        long bound = (long) maxModelLen * maxBytesPerToken;
        if (bytes > bound) {
            throw new ApiError(400, "invalid_request_error", "This model's maximum context length is " + maxModelLen
                    + " tokens, and the " + param + " is " + bytes + " bytes long, more than " + maxModelLen
                    + " tokens of text can be (" + bound + " bytes). Please reduce the length of the " + param + ".",
                    param, "context_length_exceeded");
        }
    }

    static long utf8Length(String s) {
        if (s == null) return 0;
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }
}

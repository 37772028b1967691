package ai.arbor.http.chat;

/** Text helpers for finding a tag in text that arrives in pieces. */
final class Tags {
    private Tags() {}

    /**
     * How many characters at the end of {@code text} could be the start of {@code tag}: they are held back until the
     * next piece shows whether the tag follows.
     */
    static int partialSuffix(CharSequence text, String tag) {
        int max = Math.min(tag.length() - 1, text.length());
        for (int k = max; k > 0; k--) {
            boolean match = true;
            for (int i = 0; i < k && match; i++) match = text.charAt(text.length() - k + i) == tag.charAt(i);
            if (match) return k;
        }
        return 0;
    }
}

package ai.arbor.cluster.serve.overhead;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads one HTTP/1.1 response of the OpenAI API (Content-Length or chunked) off a keep-alive connection and times it:
 * for a streamed chat response, when each output token's text had fully arrived, matched by the length of the text
 * received so far against the engine's known token script ({@code textEnds}). Deliberately small and allocation-light,
 * since it shares the CPU with the server it measures.
 */
final class ResponseReader {
    private static final String ID = "\"id\":\"";
    private static final String CONTENT = "\"content\":\"";

    /** textEnds[k] = length of the text of the first k + 1 output tokens (at least as many as any response has). */
    private final int[] textEnds;
    private final StringBuilder line = new StringBuilder(128);
    private final StringBuilder pending = new StringBuilder(1024);

    ResponseReader(int[] textEnds) { this.textEnds = textEnds; }

    /**
     * Reads the response to a request sent at {@code sentAt}; a streamed chat response of {@code streamedTokens}
     * output tokens gets per-token times (0: not streamed).
     */
    Exchange read(InputStream in, long sentAt, int streamedTokens) throws IOException {
        String status = line(in);
        if (!status.startsWith("HTTP/1.1 200")) throw new IOException("unexpected status: " + status);
        long length = -1;
        boolean chunked = false;
        for (String h; !(h = line(in)).isEmpty(); ) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) length = Long.parseLong(h.substring(15).trim());
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
        }
        Stream s = new Stream(streamedTokens > 0 ? new long[streamedTokens] : null);
        pending.setLength(0);
        if (!chunked) {
            s.body(in.readNBytes((int) length));
        } else {
            while (true) {
                long size = Long.parseLong(line(in).split(";")[0].trim(), 16);
                if (size == 0) {
                    while (!line(in).isEmpty()) { /* trailers */ }
                    break;
                }
                s.body(in.readNBytes((int) size));
                line(in);
            }
        }
        long doneAt = System.nanoTime();
        if (s.id == null) s.id = find(pending, ID, 0); // one JSON document: its id is in the body
        if (streamedTokens > 0 && (s.tokens != streamedTokens || s.textLength != textEnds[streamedTokens - 1])) {
            throw new IOException("expected " + streamedTokens + " tokens' text, matched " + s.tokens
                    + " (text length " + s.textLength + ")");
        }
        return new Exchange(s.id, sentAt, s.tokenAt, doneAt);
    }

    /** Parse state of one response body. */
    private final class Stream {
        final long[] tokenAt;
        String id;
        int textLength;
        int tokens;

        Stream(long[] tokenAt) { this.tokenAt = tokenAt; }

        void body(byte[] bytes) {
            pending.append(new String(bytes, StandardCharsets.ISO_8859_1));
            if (tokenAt == null) return;
            long now = System.nanoTime();
            int end;
            while ((end = pending.indexOf("\n\n")) >= 0) {
                event(end);
                pending.delete(0, end + 2);
            }
            while (tokens < tokenAt.length && textEnds[tokens] <= textLength) tokenAt[tokens++] = now;
        }

        /** One SSE event, pending[0, end). */
        private void event(int end) {
            if (id == null) id = find(pending, ID, 0);
            int c = pending.indexOf(CONTENT);
            if (c < 0 || c > end) return;
            for (int i = c + CONTENT.length(); i < end && pending.charAt(i) != '"'; i++) {
                if (pending.charAt(i) == '\\') i += pending.charAt(i + 1) == 'u' ? 5 : 1;
                textLength++; // an escape is one character of text; the script is ASCII
            }
        }
    }

    private static String find(StringBuilder sb, String key, int from) {
        int i = sb.indexOf(key, from);
        if (i < 0) return null;
        int start = i + key.length();
        return sb.substring(start, sb.indexOf("\"", start));
    }

    private String line(InputStream in) throws IOException {
        line.setLength(0);
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new IOException("connection closed");
            if (c != '\r') line.append((char) c);
        }
        return line.toString();
    }
}

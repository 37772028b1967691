package ai.arbor.cluster.serve.overhead;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * Parses the HTTP/1.1 responses of the OpenAI API (Content-Length or chunked) of one keep-alive connection from the
 * bytes as they arrive, and times them: for a streamed chat response, when each output token's text had fully
 * arrived, matched by the length of the text received so far against the engine's known token script
 * ({@code textEnds}). Push-style, so that one client thread can serve many connections; small and allocation-light,
 * since it shares the CPU with the server it measures.
 */
final class ResponseReader {
    private static final String ID = "\"id\":\"";
    private static final String CONTENT = "\"content\":\"";

    private enum State { STATUS, HEADERS, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS }

    /** textEnds[k] = length of the text of the first k + 1 output tokens (at least as many as any response has). */
    private final int[] textEnds;
    private final StringBuilder line = new StringBuilder(128);
    private final StringBuilder pending = new StringBuilder(1024);

    private State state = State.STATUS;
    private long sentAt;
    private int streamedTokens;
    private long bodyLeft;
    private boolean chunked;
    private long[] tokenAt;
    private String id;
    private int textLength;
    private int tokens;

    ResponseReader(int[] textEnds) { this.textEnds = textEnds; }

    /**
     * The next response answers a request sent at {@code sentAt}; a streamed chat response of {@code streamedTokens}
     * output tokens gets per-token times (0: not streamed).
     */
    void expect(long sentAt, int streamedTokens) {
        this.sentAt = sentAt;
        this.streamedTokens = streamedTokens;
        state = State.STATUS;
        bodyLeft = -1;
        chunked = false;
        tokenAt = streamedTokens > 0 ? new long[streamedTokens] : null;
        id = null;
        textLength = 0;
        tokens = 0;
        pending.setLength(0);
    }

    /**
     * Takes the bytes that arrived at {@code now}; returns the response once it is complete (the bytes after it are
     * left in {@code in}), null while it is not.
     */
    Exchange feed(ByteBuffer in, long now) throws IOException {
        while (in.hasRemaining()) {
            switch (state) {
                case STATUS -> {
                    if (!line(in)) return null;
                    if (!line.toString().startsWith("HTTP/1.1 200")) {
                        throw new IOException("unexpected status: " + line);
                    }
                    state = State.HEADERS;
                }
                case HEADERS -> {
                    if (!line(in)) return null;
                    if (line.isEmpty()) {
                        state = chunked ? State.CHUNK_SIZE : State.BODY;
                        if (!chunked && bodyLeft <= 0) return done(now);
                    } else {
                        String lower = line.toString().toLowerCase(Locale.ROOT);
                        if (lower.startsWith("content-length:")) bodyLeft = Long.parseLong(lower.substring(15).trim());
                        if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
                    }
                }
                case BODY, CHUNK_DATA -> {
                    int n = (int) Math.min(bodyLeft, in.remaining());
                    body(in, n, now);
                    if ((bodyLeft -= n) > 0) return null;
                    if (state == State.BODY) return done(now);
                    state = State.CHUNK_END;
                }
                case CHUNK_SIZE -> {
                    if (!line(in)) return null;
                    bodyLeft = Long.parseLong(line.toString().split(";")[0].trim(), 16);
                    state = bodyLeft == 0 ? State.TRAILERS : State.CHUNK_DATA;
                }
                case CHUNK_END -> {
                    if (!line(in)) return null;
                    state = State.CHUNK_SIZE;
                }
                case TRAILERS -> {
                    if (!line(in)) return null;
                    if (line.isEmpty()) return done(now);
                }
            }
        }
        return null;
    }

    private Exchange done(long now) throws IOException {
        if (id == null) id = find(pending, ID, 0); // one JSON document: its id is in the body
        if (streamedTokens > 0 && (tokens != streamedTokens || textLength != textEnds[streamedTokens - 1])) {
            throw new IOException("expected " + streamedTokens + " tokens' text, matched " + tokens
                    + " (text length " + textLength + ")");
        }
        state = State.STATUS;
        return new Exchange(id, sentAt, tokenAt, now);
    }

    private void body(ByteBuffer in, int n, long now) {
        for (int i = 0; i < n; i++) pending.append((char) (in.get() & 0xff));
        if (tokenAt == null) return;
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

    private static String find(StringBuilder sb, String key, int from) {
        int i = sb.indexOf(key, from);
        if (i < 0) return null;
        int start = i + key.length();
        return sb.substring(start, sb.indexOf("\"", start));
    }

    /** Appends to {@link #line} up to a line feed; true once the line is whole (then without its CR LF). */
    private boolean line(ByteBuffer in) {
        if (state != lineOf) {
            line.setLength(0);
            lineOf = state;
        }
        while (in.hasRemaining()) {
            char c = (char) (in.get() & 0xff);
            if (c == '\n') {
                lineOf = null;
                return true;
            }
            if (c != '\r') line.append(c);
        }
        return false;
    }

    /** The state whose line {@link #line} holds so far; null after a whole line was taken. */
    private State lineOf;
}

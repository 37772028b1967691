package ai.arbor.actors.frontend;

import java.util.List;

/**
 * Applies stop strings to streamed text: text that might be the start of a stop string is held back until it is
 * known not to be; when a stop string appears, the text before it is released and the rest dropped (OpenAI does not
 * include the stop string).
 */
public final class StopStringFilter {
    private final List<String> stops;
    private final int maxStopLen;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    public StopStringFilter(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
        this.maxStopLen = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Appends new text; returns the text that is now safe to emit. After a match, {@link #stopped()} is true. */
    public String push(String text) {
        if (stopped) return "";
        if (stops.isEmpty()) return text;
        held.append(text);
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) first = i;
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        // keep the longest suffix that is a prefix of some stop string
        int keep = 0;
        for (int len = Math.min(maxStopLen - 1, held.length()); len > 0; len--) {
            if (isPrefixOfAStop(held.length() - len)) {
                keep = len;
                break;
            }
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** At the end of the output: whatever was held back. */
    public String flush() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }

    public boolean stopped() { return stopped; }

    private boolean isPrefixOfAStop(int from) {
        int len = held.length() - from;
        for (String s : stops) {
            if (s.length() > len && s.regionMatches(0, held.substring(from), 0, len)) return true;
        }
        return false;
    }
}

package ai.arbor.gpu.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies stop strings to streamed text the way OpenAI and vLLM do: generation ends at the first occurrence of any
 * stop string (the earliest position in the text; at one position the longest string), the stop string itself is not
 * part of the output, and while streaming any suffix that could still grow into a stop string is held back.
 *
 * <p>Not thread-safe: one instance per sequence.
 */
public final class StopStringMatcher {

    /**
     * What may be emitted after a {@link #push}.
     *
     * @param text    the text safe to send now (possibly empty)
     * @param matched the stop string that ended the sequence, or null while it goes on
     */
    public record Result(String text, String matched) {
        public boolean stopped() { return matched != null; }
    }

    private final List<String> stops;
    private final boolean includeStopString;
    private final StringBuilder pending = new StringBuilder();
    private String matched;

    public StopStringMatcher(List<String> stops) {
        this(stops, false);
    }

    /** @param includeStopString vLLM's include_stop_str_in_output: emit the stop string too */
    public StopStringMatcher(List<String> stops, boolean includeStopString) {
        List<String> s = new ArrayList<>();
        for (String stop : stops == null ? List.<String>of() : stops) if (stop != null && !stop.isEmpty()) s.add(stop);
        this.stops = List.copyOf(s);
        this.includeStopString = includeStopString;
    }

    public boolean isEmpty() { return stops.isEmpty(); }

    /** Consumes a delta of generated text; after a match the sequence is over and further calls fail. */
    public Result push(String delta) {
        if (matched != null) throw new IllegalStateException("stop string '" + matched + "' already matched");
        if (stops.isEmpty()) return new Result(delta, null);
        // Only text we held back can combine with the delta into a match: everything older was already cleared.
        pending.append(delta);
        int best = -1;
        String bestStop = null;
        for (String stop : stops) {
            int i = pending.indexOf(stop);
            if (i >= 0 && (best < 0 || i < best || (i == best && stop.length() > bestStop.length()))) {
                best = i;
                bestStop = stop;
            }
        }
        if (bestStop != null) {
            matched = bestStop;
            String out = pending.substring(0, best) + (includeStopString ? bestStop : "");
            pending.setLength(0);
            return new Result(out, bestStop);
        }
        int hold = heldSuffix();
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return new Result(out, null);
    }

    /** The held-back text, released when the sequence ends for another reason (EOS, length). */
    public String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }

    public String matched() { return matched; }

    /** Length of the longest suffix of {@code pending} that is a proper prefix of some stop string. */
    private int heldSuffix() {
        String p = pending.toString();
        int n = p.length();
        int best = 0;
        for (String stop : stops) {
            for (int len = Math.min(n, stop.length() - 1); len > best; len--) {
                if (p.regionMatches(n - len, stop, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}

package ai.arbor.actors.metrics;

import java.util.HashSet;
import java.util.Set;

/**
 * Reads samples out of Prometheus text exposition, for checks and tests: Kamon writes labels in hash order, so a
 * sample is found by name and label set, not by its line.
 */
public final class ScrapeText {
    private ScrapeText() {}

    /**
     * The value of the sample {@code name} whose labels are exactly {@code labels} ({@code key="value"} each), or NaN
     * when the scrape has no such sample.
     */
    public static double value(String scrape, String name, String... labels) {
        Set<String> want = Set.of(labels);
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            int open = line.indexOf('{');
            int close = line.lastIndexOf('}');
            String n = open < 0 ? line.substring(0, line.indexOf(' ')) : line.substring(0, open);
            if (!n.equals(name)) continue;
            Set<String> got = new HashSet<>();
            if (open >= 0) {
                for (String kv : line.substring(open + 1, close).split(",")) if (!kv.isEmpty()) got.add(kv);
            }
            if (!got.equals(want)) continue;
            String rest = (close < 0 ? line.substring(n.length()) : line.substring(close + 1)).trim();
            return Double.parseDouble(rest.split(" ")[0]);
        }
        return Double.NaN;
    }
}

package ai.arbor.cluster.bench;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The samples of a Prometheus text exposition ({@code /metrics}), keyed by series ({@code name{labels}} exactly as
 * written), with each metric family's declared type, so the counters of two scrapes can be subtracted.
 */
public record PrometheusText(Map<String, Double> samples, Map<String, String> types) {

    public static PrometheusText parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        Map<String, String> types = new HashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split("\\s+");
                if (parts.length >= 4 && parts[1].equals("TYPE")) {
                    types.put(parts[2], parts[3]);
                }
                continue;
            }
            int end = seriesEnd(line);
            if (end <= 0 || end >= line.length()) {
                continue;
            }
            String series = line.substring(0, end);
            String[] rest = line.substring(end).strip().split("\\s+");
            try {
                samples.put(series, parseValue(rest[0]));
            } catch (NumberFormatException e) {
                // not a sample line we understand; skip it rather than fail the run over one odd line
            }
        }
        return new PrometheusText(samples, types);
    }

    /** Series name of a sample without its labels. */
    public static String metricName(String series) {
        int brace = series.indexOf('{');
        return brace < 0 ? series : series.substring(0, brace);
    }

    /**
     * How much each counter (and each histogram's or summary's {@code _count} and {@code _sum}) grew from
     * {@code before} to this scrape; series that did not change are left out.
     */
    public Map<String, Double> counterDeltas(PrometheusText before) {
        Map<String, Double> out = new TreeMap<>();
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            if (!isCumulative(metricName(e.getKey()))) {
                continue;
            }
            double delta = e.getValue() - before.samples.getOrDefault(e.getKey(), 0.0);
            if (delta != 0 && !Double.isNaN(delta)) {
                out.put(e.getKey(), delta);
            }
        }
        return out;
    }

    /** Sum over all label sets of one metric. */
    public double total(String metric) {
        double sum = 0;
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            if (metricName(e.getKey()).equals(metric)) {
                sum += e.getValue();
            }
        }
        return sum;
    }

    private boolean isCumulative(String name) {
        String type = types.get(name);
        if ("counter".equals(type)) {
            return true;
        }
        for (String suffix : new String[]{"_count", "_sum", "_total"}) {
            if (name.endsWith(suffix)) {
                String family = name.substring(0, name.length() - suffix.length());
                String t = types.get(family);
                if (t == null ? suffix.equals("_total") : t.equals("histogram") || t.equals("summary")
                        || t.equals("counter")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int seriesEnd(String line) {
        boolean inLabels = false, inQuotes = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (inQuotes) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inQuotes = false;
                }
            } else if (c == '"' && inLabels) {
                inQuotes = true;
            } else if (c == '{') {
                inLabels = true;
            } else if (c == '}') {
                return i + 1;
            } else if (!inLabels && Character.isWhitespace(c)) {
                return i;
            }
        }
        return -1;
    }

    private static double parseValue(String v) {
        return switch (v) {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(v);
        };
    }
}

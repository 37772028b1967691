package ai.arbor.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code arbor.device} read as the devices a process runs engines on, one engine (and so one worker) on each: a single
 * {@code cpu}, {@code cuda}, {@code cuda:N} or {@code synthetic}, or a comma-separated list of CUDA devices
 * ({@code cuda:0,cuda:1}) for one worker per GPU of the host, as vLLM's and Dynamo's data parallelism places them.
 * A list of {@code synthetic} stands in for such a list where there is no GPU (tests, the serving path alone). Several
 * CPU engines are {@code arbor.engine.workers} with one {@code cpu}: a list would only repeat the same device.
 *
 * @param names the devices in the order given, lower-cased ({@code cuda} stays {@code cuda}: it is {@code cuda:0})
 */
public record Devices(List<String> names) {
    private static final Set<String> KINDS = Set.of("cpu", "cuda", "synthetic");
    /** {@code cuda:N}: the N-th CUDA device ({@code cuda} alone is device 0). */
    private static final Pattern CUDA = Pattern.compile("cuda(?::(0|[1-9][0-9]{0,3}))?");

    public Devices {
        names = List.copyOf(names);
    }

    /** Parses and checks {@code value}; errors name {@code key}, the setting it came from. */
    public static Devices parse(String key, String value) {
        String all = value.trim().toLowerCase(Locale.ROOT);
        List<String> names = new ArrayList<>();
        for (String part : all.split(",", -1)) {
            String d = part.trim();
            if (!KINDS.contains(d) && !CUDA.matcher(d).matches()) {
                throw new IllegalArgumentException(key + " must be cpu, cuda, cuda:N or synthetic, or a list of "
                        + "CUDA devices such as cuda:0,cuda:1, got '" + value.trim() + "'");
            }
            names.add(d);
        }
        Devices devices = new Devices(names);
        if (names.size() > 1) devices.checkList(key, value.trim());
        return devices;
    }

    private void checkList(String key, String value) {
        String kind = kind(names.get(0));
        for (String d : names) {
            if (!kind(d).equals(kind)) {
                throw new IllegalArgumentException(key + " '" + value + "' mixes " + kind + " and " + kind(d)
                        + ": a list names devices of one kind");
            }
        }
        if (kind.equals("cpu")) {
            throw new IllegalArgumentException(key + " '" + value + "' lists cpu more than once: for several CPU "
                    + "engines use --device cpu with --workers N (arbor.engine.workers)");
        }
        if (kind.equals("cuda")) {
            Set<Integer> seen = new HashSet<>();
            for (String d : names) {
                if (!seen.add(cudaIndex(d))) {
                    throw new IllegalArgumentException(key + " '" + value + "' names cuda:" + cudaIndex(d)
                            + " twice: one CUDA device holds one engine");
                }
            }
        }
    }

    private static String kind(String device) { return CUDA.matcher(device).matches() ? "cuda" : device; }

    /** Engines these devices hold: one each. */
    public int size() { return names.size(); }

    /** The device of engine {@code i}. */
    public String get(int i) { return names.get(i); }

    /** True when every device is a CUDA device (a list never mixes kinds). */
    public boolean isCuda() { return kind(names.get(0)).equals("cuda"); }

    public boolean isSynthetic() { return names.get(0).equals("synthetic"); }

    public boolean isCpu() { return names.get(0).equals("cpu"); }

    /** The device index of {@code cuda:N} ({@code cuda} is 0). */
    public static int cudaIndex(String device) {
        Matcher m = CUDA.matcher(device);
        if (!m.matches()) throw new IllegalArgumentException("device '" + device + "' is not of the form cuda:N");
        return m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
    }

    /** The CUDA device indices, in order (empty unless {@link #isCuda()}). */
    public List<Integer> cudaIndices() {
        return isCuda() ? names.stream().map(Devices::cudaIndex).toList() : List.of();
    }

    /** As given, comma-separated: what {@code arbor.device} says. */
    @Override
    public String toString() { return String.join(",", names); }
}

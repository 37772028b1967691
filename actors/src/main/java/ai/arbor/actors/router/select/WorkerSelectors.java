package ai.arbor.actors.router.select;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/** The selection strategies by their {@code arbor.router.mode} name; more modes register here. */
public final class WorkerSelectors {
    private WorkerSelectors() {}

    private static final Map<String, Supplier<WorkerSelector>> MODES = new TreeMap<>();

    static {
        register("round-robin", RoundRobinSelector::new);
        register("least-loaded", LeastLoadedSelector::new);
        register("random", RandomSelector::new);
    }

    public static synchronized void register(String mode, Supplier<WorkerSelector> factory) {
        MODES.put(mode, factory);
    }

    public static synchronized WorkerSelector create(String mode) {
        Supplier<WorkerSelector> f = MODES.get(mode);
        if (f == null) throw new IllegalArgumentException("unknown router mode '" + mode + "'; known: " + MODES.keySet());
        return f.get();
    }
}

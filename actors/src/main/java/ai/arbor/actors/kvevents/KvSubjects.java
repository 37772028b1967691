package ai.arbor.actors.kvevents;

/**
 * NATS subject names: {@code arbor.kv.<model>.<worker>}. Characters a subject token may not hold (dots, slashes,
 * spaces, wildcards) become '_', so "Qwen/Qwen2.5-0.5B" is the token "Qwen_Qwen2_5-0_5B".
 */
public final class KvSubjects {
    public static final String PREFIX = "arbor.kv";

    private KvSubjects() {}

    public static String modelToken(String model) {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model name is empty");
        StringBuilder b = new StringBuilder(model.length());
        for (char c : model.toCharArray()) {
            b.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_');
        }
        return b.toString();
    }

    public static String worker(String model, long workerId) {
        return PREFIX + "." + modelToken(model) + "." + Long.toUnsignedString(workerId, 16);
    }

    /** Where a worker listens for resync requests: outside {@code arbor.kv.>}, so the stream does not store them. */
    public static String resync(String model, long workerId) {
        return "arbor.kvresync." + modelToken(model) + "." + Long.toUnsignedString(workerId, 16);
    }

    /** Every worker of the model. */
    public static String allWorkers(String model) {
        return PREFIX + "." + modelToken(model) + ".*";
    }
}

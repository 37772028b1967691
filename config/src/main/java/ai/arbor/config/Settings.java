package ai.arbor.config;

/** Range checks whose messages name the offending key. */
final class Settings {
    private Settings() {}

    static void positive(String key, long value) {
        if (value <= 0) throw new IllegalArgumentException(key + " must be > 0, got " + value);
    }

    static void atLeast(String key, long value, long min) {
        if (value < min) throw new IllegalArgumentException(key + " must be >= " + min + ", got " + value);
    }
}

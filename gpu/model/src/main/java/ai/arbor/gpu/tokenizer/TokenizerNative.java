package ai.arbor.gpu.tokenizer;

/**
 * Pins DJL's tokenizer library to the CPU build shipped inside its jar, whatever the host has. Where DJL sees an NVIDIA
 * GPU it looks for a CUDA build of the library, which is not in the jar, and (offline, as a server is) fails to load
 * any: a GPU machine could not even tokenize. The CPU build is the right one everywhere (tokenizing never uses a GPU),
 * so this sets {@code RUST_FLAVOR=cpu} and {@code ai.djl.offline=true} before DJL's first use, unless the operator set
 * them (as an environment variable or a system property). {@link HfTokenizer} calls it in its static initializer,
 * which every entry point passes through before touching DJL.
 */
public final class TokenizerNative {
    static final String FLAVOR = "RUST_FLAVOR";
    static final String OFFLINE = "ai.djl.offline";

    private TokenizerNative() {}

    /** Idempotent; cheap after the first call. */
    public static synchronized void pinCpuBuild() {
        setUnlessGiven(FLAVOR, "cpu");
        setUnlessGiven(OFFLINE, "true");
    }

    private static void setUnlessGiven(String key, String value) {
        String env = System.getenv(key);
        if (env != null && !env.isEmpty()) return;
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}

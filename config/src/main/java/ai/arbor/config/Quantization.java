package ai.arbor.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** {@code arbor.engine.quantization}: how a worker stores the model's linear weights, with vLLM's names. */
public enum Quantization {
    /** The checkpoint's precision. */
    NONE,
    /** FP8 E4M3 with a scale per output channel, quantized at load. */
    FP8;

    /** The name flags and config files use. */
    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    static Quantization parse(String key, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (Quantization q : values()) if (q.cliName().equals(v)) return q;
        throw new IllegalArgumentException(key + " must be one of " + Arrays.stream(values())
                .map(Quantization::cliName).collect(Collectors.joining(", ")) + ", got '" + value + "'");
    }
}

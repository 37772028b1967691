package ai.arbor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads Arbor's HOCON configuration with its precedence: command-line overrides, then ARBOR_* environment variables,
 * then an optional file, then -D system properties, application.conf, Arbor's Pekko tuning ({@value #PEKKO_DEFAULTS})
 * and reference.conf.
 */
public final class ArborConfig {
    /** Pekko settings Arbor changes from Pekko's defaults; anything a user sets wins over them. */
    static final String PEKKO_DEFAULTS = "arbor-pekko.conf";

    private ArborConfig() {}

    /**
     * @param overrides full HOCON paths (e.g. {@code arbor.port}) to values, from command-line flags
     * @param file      an extra HOCON file, or null
     * @param env       the environment (System.getenv() outside tests)
     */
    public static Config load(Map<String, ?> overrides, Path file, Map<String, String> env) {
        ConfigFactory.invalidateCaches();
        Config fromFile = ConfigFactory.empty();
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("config file not found: " + file);
            fromFile = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        }
        return ConfigFactory.parseMap(overrides, "command line")
                .withFallback(EnvironmentVariables.from(env))
                .withFallback(fromFile)
                // ConfigFactory.load() with Arbor's Pekko defaults between application.conf and reference.conf
                .withFallback(ConfigFactory.defaultOverrides())
                .withFallback(ConfigFactory.defaultApplication())
                .withFallback(ConfigFactory.parseResources(ArborConfig.class.getClassLoader(), PEKKO_DEFAULTS))
                .withFallback(ConfigFactory.defaultReference())
                .resolve();
    }

    public static Config load(Map<String, ?> overrides, Path file) {
        return load(overrides, file, System.getenv());
    }

    public static ArborSettings settings(Map<String, ?> overrides, Path file) {
        return ArborSettings.from(load(overrides, file));
    }
}

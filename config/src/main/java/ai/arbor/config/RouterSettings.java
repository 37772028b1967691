package ai.arbor.config;

import com.typesafe.config.Config;

/** {@code arbor.router}: which worker-selection strategy a router uses ({@code round-robin}, {@code least-loaded}, ...). */
public record RouterSettings(String mode) {
    static RouterSettings from(Config c) {
        return new RouterSettings(c.getString("mode").trim().toLowerCase(java.util.Locale.ROOT));
    }
}

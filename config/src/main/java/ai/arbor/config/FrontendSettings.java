package ai.arbor.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code arbor.frontend}: admission limits of the HTTP frontend.
 *
 * @param migrationLimit how often a request moves to another worker when its worker is lost (0: never)
 */
public record FrontendSettings(int maxQueuedRequests, Duration retryAfter, long maxBodyBytes, Duration workerWait,
                               int migrationLimit) {

    static FrontendSettings from(Config c) {
        FrontendSettings s = new FrontendSettings(c.getInt("max-queued-requests"), c.getDuration("retry-after"),
                c.getBytes("max-body-bytes"), c.getDuration("worker-wait"),
                c.getInt("migration-limit"));
        Settings.positive("arbor.frontend.max-queued-requests", s.maxQueuedRequests);
        Settings.positive("arbor.frontend.max-body-bytes", s.maxBodyBytes);
        Settings.atLeast("arbor.frontend.migration-limit", s.migrationLimit, 0);
        return s;
    }
}

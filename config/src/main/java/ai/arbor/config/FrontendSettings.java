package ai.arbor.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code arbor.frontend}: admission limits, timeouts and security of the HTTP frontend.
 *
 * @param migrationLimit how often a request moves to another worker when its worker is lost (0: never)
 * @param headerTimeout  how long a connection may take to send a request's head (also how long an idle keep-alive
 *                       connection stays open): a client sending headers a byte at a time is cut off after it
 * @param bodyTimeout    how long a request body may take to arrive; a slower one gets 408
 */
public record FrontendSettings(int maxQueuedRequests, Duration retryAfter, long maxBodyBytes, Duration workerWait,
                               int migrationLimit, Duration headerTimeout, Duration bodyTimeout, RequestLimits limits,
                               HttpSecurity security) {

    static FrontendSettings from(Config c) {
        FrontendSettings s = new FrontendSettings(c.getInt("max-queued-requests"), c.getDuration("retry-after"),
                c.getBytes("max-body-bytes"), c.getDuration("worker-wait"), c.getInt("migration-limit"),
                c.getDuration("header-timeout"), c.getDuration("body-timeout"), RequestLimits.from(c.getConfig("limits")),
                HttpSecurity.from(c));
        Settings.positive("arbor.frontend.max-queued-requests", s.maxQueuedRequests);
        Settings.positive("arbor.frontend.max-body-bytes", s.maxBodyBytes);
        Settings.atLeast("arbor.frontend.migration-limit", s.migrationLimit, 0);
        Settings.positive("arbor.frontend.header-timeout", s.headerTimeout.toMillis());
        Settings.positive("arbor.frontend.body-timeout", s.bodyTimeout.toMillis());
        return s;
    }
}

package ai.arbor.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code arbor.frontend}: admission limits of the HTTP frontend. */
public record FrontendSettings(int maxQueuedRequests, Duration retryAfter, long maxBodyBytes, Duration workerWait) {

    static FrontendSettings from(Config c) {
        FrontendSettings s = new FrontendSettings(c.getInt("max-queued-requests"), c.getDuration("retry-after"),
                c.getBytes("max-body-bytes"), c.getDuration("worker-wait"));
        Settings.positive("arbor.frontend.max-queued-requests", s.maxQueuedRequests);
        Settings.positive("arbor.frontend.max-body-bytes", s.maxBodyBytes);
        return s;
    }
}

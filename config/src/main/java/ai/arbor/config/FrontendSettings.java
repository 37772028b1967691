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
 * @param requestTimeout Pekko HTTP's {@value #REQUEST_TIMEOUT}, the bound on a request's answer: Pekko answers 503 when
 *                       a response has not started by then, and work with no stream of its own to cancel (an
 *                       embedding) gives up then too. Where Pekko's is off ({@code infinite}) that work still ends
 *                       after 600 s: nothing a worker holds may be held forever
 */
public record FrontendSettings(int maxQueuedRequests, Duration retryAfter, long maxBodyBytes, Duration workerWait,
                               int migrationLimit, Duration headerTimeout, Duration bodyTimeout, RequestLimits limits,
                               HttpSecurity security, Duration requestTimeout) {

    public static final String REQUEST_TIMEOUT = "pekko.http.server.request-timeout";
    /** What the http module's reference.conf sets it to: where it is off, or that module is not on the class path. */
    private static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(600);

    /** How an answer that {@code timeout} cut off names it, e.g. "the request timeout (pekko.http.server.request-timeout, 600s)". */
    public static String requestTimeoutText(Duration timeout) {
        long ms = timeout.toMillis();
        return "the request timeout (" + REQUEST_TIMEOUT + ", " + (ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms") + ")";
    }

    /** @param root the whole configuration, for the Pekko HTTP setting that bounds a request */
    static FrontendSettings from(Config c, Config root) {
        Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        if (root.hasPath(REQUEST_TIMEOUT) && !"infinite".equals(root.getString(REQUEST_TIMEOUT))
                && root.getDuration(REQUEST_TIMEOUT).toMillis() > 0) {
            requestTimeout = root.getDuration(REQUEST_TIMEOUT);
        }
        FrontendSettings s = new FrontendSettings(c.getInt("max-queued-requests"), c.getDuration("retry-after"),
                c.getBytes("max-body-bytes"), c.getDuration("worker-wait"), c.getInt("migration-limit"),
                c.getDuration("header-timeout"), c.getDuration("body-timeout"), RequestLimits.from(c.getConfig("limits")),
                HttpSecurity.from(c), requestTimeout);
        Settings.positive("arbor.frontend.max-queued-requests", s.maxQueuedRequests);
        Settings.positive("arbor.frontend.max-body-bytes", s.maxBodyBytes);
        Settings.atLeast("arbor.frontend.migration-limit", s.migrationLimit, 0);
        Settings.positive("arbor.frontend.header-timeout", s.headerTimeout.toMillis());
        Settings.positive("arbor.frontend.body-timeout", s.bodyTimeout.toMillis());
        return s;
    }
}

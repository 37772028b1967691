package ai.arbor.http;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/** What went wrong while a request body was read, as the API's error: too large (413), too slow (408), cut (400). */
final class BodyErrors {
    private BodyErrors() {}

    /** The error for {@code cause}, or null when it is not about reading the body. */
    static ApiError of(Throwable cause, long limit, Duration timeout) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof EntityStreamSizeException) return tooLarge(limit);
            if (t instanceof TimeoutException) {
                return new ApiError(408, "invalid_request_error", "the request body did not arrive within "
                        + timeout.toMillis() + " ms (is Content-Length larger than the body?)", null, "request_timeout");
            }
            if (t instanceof EntityStreamException e) {
                return new ApiError(400, "invalid_request_error", "the request body is malformed: "
                        + e.info().summary(), null, "bad_request");
            }
        }
        return null;
    }

    static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", "the request body exceeds the limit of " + limit + " bytes",
                null, "request_too_large");
    }
}

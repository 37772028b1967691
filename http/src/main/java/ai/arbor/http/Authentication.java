package ai.arbor.http;

import ai.arbor.config.ApiKeys;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Bearer-token authentication of the API: the name of the key a request presents, or OpenAI's 401. The key itself
 * is never logged nor echoed back.
 */
public final class Authentication {
    /** Who a request came from when no keys are configured. */
    public static final String ANONYMOUS = "-";

    private final ApiKeys keys;

    public Authentication(ApiKeys keys) { this.keys = keys; }

    public boolean required() { return keys.required(); }

    /** The key's name, or {@link #ANONYMOUS} when keys are off; throws the 401 otherwise. */
    public String authenticate(HttpRequest request) {
        if (!keys.required()) return ANONYMOUS;
        Optional<String> header = request.getHeader("Authorization").map(h -> h.value());
        if (header.isEmpty()) {
            throw unauthorized("You didn't provide an API key. You need to provide your API key in an Authorization"
                    + " header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }
        String value = header.get().strip();
        if (value.length() < 7 || !value.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw unauthorized("The Authorization header must use Bearer auth (Authorization: Bearer YOUR_KEY).");
        }
        return keys.nameOf(value.substring(7).strip())
                .orElseThrow(() -> unauthorized("Incorrect API key provided."));
    }

    private static ApiError unauthorized(String message) {
        return new ApiError(401, "invalid_request_error", message, null, "invalid_api_key");
    }
}

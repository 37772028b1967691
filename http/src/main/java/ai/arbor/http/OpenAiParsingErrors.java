package ai.arbor.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers the requests Pekko HTTP refuses while parsing, before any handler sees them (a bad request line, an
 * oversized URI or header, an unknown method or protocol), in OpenAI's error shape instead of Pekko's plain text.
 * Named by {@code pekko.http.server.parsing.error-handler}, which instantiates it by reflection.
 */
public final class OpenAiParsingErrors extends ParsingErrorHandler {

    @Override
    public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
        int code = status.intValue();
        // the summary names the limit or the malformed part; the detail may echo request bytes, which stay out of logs
        String summary = info.summary().isEmpty() ? status.reason() : info.summary();
        return OpenAiServer.error(new ApiError(code, code >= 500 ? "server_error" : "invalid_request_error", summary,
                null, codeOf(code)));
    }

    static String codeOf(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 408 -> "request_timeout";
            case 413 -> "request_too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 431 -> "headers_too_large";
            case 501 -> "not_implemented";
            case 505 -> "http_version_not_supported";
            default -> null;
        };
    }
}

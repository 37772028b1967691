package ai.arbor.actors.metrics;

import ai.arbor.actors.generation.GenerationEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One structured line per finished request on logger {@code ai.arbor.requests}: id, model, endpoint, client (the
 * name of the API key it used, {@code -} without keys), outcome, token counts and timings. The fields are both in the message ({@code key=value}, for text logs and grep) and attached as
 * SLF4J key-value pairs, which a JSON encoder writes as fields.
 */
public final class RequestLog {
    static final Logger LOG = LoggerFactory.getLogger("ai.arbor.requests");

    private RequestLog() {}

    static void finished(String requestId, String model, String endpoint, String requestType, String client,
                         String status,
                         GenerationEvent.Usage usage, long ttftNanos, long durationNanos, String error) {
        if (!LOG.isInfoEnabled()) return;
        int prompt = usage == null ? -1 : usage.promptTokens();
        int completion = usage == null ? -1 : usage.completionTokens();
        int cached = usage == null ? -1 : usage.cachedTokens();
        double ttftMs = ttftNanos < 0 ? -1 : ttftNanos / 1e6;
        double durationMs = durationNanos / 1e6;
        StringBuilder msg = new StringBuilder("request id=").append(requestId).append(" model=").append(model)
                .append(" endpoint=").append(endpoint).append(" type=").append(requestType)
                .append(" client=").append(client)
                .append(" status=").append(status).append(" prompt_tokens=").append(prompt)
                .append(" completion_tokens=").append(completion).append(" cached_tokens=").append(cached)
                .append(" ttft_ms=").append(millis(ttftNanos))
                .append(" duration_ms=").append(millis(durationNanos));
        if (error != null) msg.append(" error=\"").append(error.replace('"', '\'')).append('"');
        var e = LOG.atInfo().addKeyValue("request_id", requestId).addKeyValue("model", model)
                .addKeyValue("endpoint", endpoint).addKeyValue("request_type", requestType)
                .addKeyValue("client", client)
                .addKeyValue("status", status).addKeyValue("prompt_tokens", prompt)
                .addKeyValue("completion_tokens", completion).addKeyValue("cached_tokens", cached)
                .addKeyValue("ttft_ms", ttftMs).addKeyValue("duration_ms", durationMs);
        if (error != null) e = e.addKeyValue("error", error);
        e.log(msg.toString());
    }

    /**
     * Nanoseconds as milliseconds with three decimals ("-1.000" for none), like {@code %.3f} but without a Formatter
     * (a regex parse per call): this runs once per request.
     */
    static String millis(long nanos) {
        if (nanos < 0) return "-1.000";
        long micros = (nanos + 500) / 1000; // %.3f rounds half up
        String frac = Long.toString(1000 + micros % 1000).substring(1);
        return (micros / 1000) + "." + frac;
    }
}

package ai.arbor.actors.metrics;

import java.util.concurrent.ConcurrentHashMap;
import kamon.Kamon;
import kamon.metric.Counter;
import kamon.metric.Gauge;
import kamon.metric.Histogram;
import kamon.metric.MeasurementUnit;
import kamon.tag.TagSet;

/**
 * The frontend's instruments of one model, looked up in Kamon's registry once instead of on every request and token
 * (each lookup hashes the tags and checks the instrument's type). Kamon hands out the same instrument for the same name
 * and tags, so this changes nothing but the cost.
 */
final class ModelInstruments {
    private static final ConcurrentHashMap<String, ModelInstruments> BY_MODEL = new ConcurrentHashMap<>();
    private static final MeasurementUnit NANOS = MeasurementUnit.time().nanoseconds();

    final Gauge inflight;
    final Gauge queued;
    final Counter disconnected;
    final Histogram duration;
    final Histogram ttft;
    final Histogram itl;
    final Histogram inputTokens;
    final Histogram outputTokens;
    final Histogram cachedTokens;
    private final String model;
    /** Request counters by endpoint, request type and status: a handful of combinations. */
    private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();

    private ModelInstruments(String model) {
        this.model = model;
        TagSet tag = TagSet.of("model", model);
        inflight = Kamon.gauge(FrontendMetrics.INFLIGHT).withTags(tag);
        queued = Kamon.gauge(FrontendMetrics.QUEUED).withTags(tag);
        disconnected = Kamon.counter(FrontendMetrics.DISCONNECTED).withTags(tag);
        duration = Kamon.histogram(FrontendMetrics.DURATION, NANOS).withTags(tag);
        ttft = Kamon.histogram(FrontendMetrics.TTFT, NANOS).withTags(tag);
        itl = Kamon.histogram(FrontendMetrics.ITL, NANOS).withTags(tag);
        inputTokens = Kamon.histogram(FrontendMetrics.INPUT_TOKENS).withTags(tag);
        outputTokens = Kamon.histogram(FrontendMetrics.OUTPUT_TOKENS).withTags(tag);
        cachedTokens = Kamon.histogram(FrontendMetrics.CACHED_TOKENS).withTags(tag);
    }

    static ModelInstruments of(String model) { return BY_MODEL.computeIfAbsent(model, ModelInstruments::new); }

    Counter requests(String endpoint, String requestType, String status) {
        return requests.computeIfAbsent(endpoint + ' ' + requestType + ' ' + status, k -> Kamon.counter(FrontendMetrics.REQUESTS)
                .withTags(TagSet.builder().add("model", model).add("endpoint", endpoint)
                        .add("request_type", requestType).add("status", status).build()));
    }
}

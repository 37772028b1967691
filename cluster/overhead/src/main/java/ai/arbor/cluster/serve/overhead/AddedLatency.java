package ai.arbor.cluster.serve.overhead;

import java.util.List;

/**
 * The latency the serving path adds on top of the engine, per request: what the client observed minus what the
 * engine itself took, both on one clock.
 *
 * <ul>
 *   <li>TTFT added = (first token at the client − sent) − (first token out of the engine − request into the engine);
 *   <li>ITL added = (gap between tokens k − 1 and k at the client) − (the same gap at the engine);
 *   <li>E2E added = (response complete − sent) − (last token out of the engine − request into the engine).
 * </ul>
 * TTFT and E2E added split into the way in ({@link #toEngine}: HTTP, JSON, template, tokenizing, actors up to the
 * engine's {@code addRequest}) and the way out ({@link #delivery}: a token from the engine to the client's socket:
 * actors, detokenizing, SSE or JSON, HTTP).
 */
final class AddedLatency {
    final Samples engineTtft = new Samples();
    final Samples ttft = new Samples();
    final Samples itl = new Samples();
    final Samples e2e = new Samples();
    final Samples toEngine = new Samples();
    final Samples delivery = new Samples();
    int unmatched;

    static AddedLatency of(List<Exchange> exchanges, EngineTimeline engine) {
        AddedLatency a = new AddedLatency();
        for (Exchange x : exchanges) {
            EngineTimeline.Times t = x.id() == null ? null : engine.get(x.id());
            if (t == null || t.last() == 0) {
                a.unmatched++;
                continue;
            }
            a.toEngine.add(t.arrived() - x.sentAt());
            a.e2e.add((x.doneAt() - x.sentAt()) - (t.last() - t.arrived()));
            if (x.tokenAt() == null) continue;
            a.engineTtft.add(t.first() - t.arrived());
            a.ttft.add((x.tokenAt()[0] - x.sentAt()) - (t.first() - t.arrived()));
            for (int k = 0; k < x.tokenAt().length; k++) {
                a.delivery.add(x.tokenAt()[k] - t.emitted()[k]);
                if (k > 0) {
                    a.itl.add((x.tokenAt()[k] - x.tokenAt()[k - 1]) - (t.emitted()[k] - t.emitted()[k - 1]));
                }
            }
        }
        return a;
    }
}

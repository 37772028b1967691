package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A started request: its events, to be run once, and two signals that let a caller decide what to do before it runs
 * them (the HTTP layer picks the response status this way without materialising anything).
 *
 * @param firstEvent completes when the first event is ready, or fails with a {@link GenerationEvent.Failure} when
 *                   the request failed before any (no worker, rejected...). Either way, {@link #events} then delivers
 *                   it; completes on the request's actor, so callbacks must be short and non-blocking
 * @param unclaimed  completes when nobody ran {@link #events} in time after {@link #firstEvent}: the request was
 *                   cancelled at its worker, and the events were never seen
 */
public record Generation(Source<GenerationEvent, NotUsed> events, CompletionStage<Void> firstEvent,
                         CompletionStage<Void> unclaimed) {}

package ai.arbor.actors.generation;

import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;

/**
 * What a request's token stream carries to the HTTP layer, in order; {@link Usage} comes last. Never leaves the
 * frontend's JVM.
 */
public sealed interface GenerationEvent extends NoSerializationVerificationNeeded {

    /** New text of choice {@code index} (text may be empty when only logprobs arrived). */
    record Delta(int index, String text, int[] tokenIds, List<TokenLogprobs> logprobs) implements GenerationEvent {}

    /** Choice {@code index} ended. */
    record Finished(int index, FinishReason reason) implements GenerationEvent {}

    /** Totals over all choices; the last element of a successful stream. */
    record Usage(int promptTokens, int completionTokens, int cachedTokens) implements GenerationEvent {}

    /** The request failed after it was accepted (its worker died, was rejected...): the stream fails with this. */
    final class Failure extends RuntimeException {
        private final int status;

        public Failure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        /** The HTTP status it maps to when nothing was sent yet. */
        public int status() { return status; }
    }
}

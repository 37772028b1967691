package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.OutputConstraint;
import ai.arbor.structured.ConstraintMatcher;
import ai.arbor.structured.StructuredOutputs;

/** A request's output constraint, compiled to the automaton that masks its tokens. */
final class RequestConstraints {
    /** Null when the engine has no tokenizer to read the vocabulary from: constrained requests are refused. */
    private final StructuredOutputs structured;

    RequestConstraints(StructuredOutputs structured) { this.structured = structured; }

    /** Compiles the request's constraint here, on the caller's thread, so a slow schema does not stall a step. */
    ConstraintMatcher matcherFor(EngineRequest request) {
        OutputConstraint c = request.sampling().constraint();
        if (c == null) return null;
        if (structured == null) {
            throw new IllegalArgumentException("structured outputs need the model's tokenizer, which this engine lacks");
        }
        ConstraintMatcher m = structured.matcher(c);
        int[] prompt = request.promptTokenIds();
        // A migrated request's output so far ends its prompt: the constraint continues from where it stopped.
        for (int i = prompt.length - Math.max(0, request.generatedTokens()); i < prompt.length; i++) {
            if (!m.accept(prompt[i])) {
                throw new IllegalArgumentException("request " + request.requestId()
                        + ": its generated tokens do not match its output constraint");
            }
        }
        return m;
    }
}

package ai.arbor.gpu.protocol;

import java.util.Optional;

/**
 * The one rule for a request's length: its prompt plus the tokens it asks to generate must fit the model's context.
 * The API parser, the worker and the engine all check it here, each turning a violation into its own error (a 400
 * naming {@code max_tokens}, a rejected request, an exception), so that they can never disagree.
 */
public final class ContextLength {
    private ContextLength() {}

    /**
     * Why {@code promptTokens} plus {@code completionTokens} do not fit {@code maxModelLen}, or empty if they do. The
     * engine asks for one completion token (a request may stop at the context's end); the worker and a request that
     * names {@code max_tokens} ask for all of them.
     */
    public static Optional<String> exceeded(int promptTokens, int completionTokens, int maxModelLen) {
        long requested = (long) promptTokens + completionTokens;
        if (requested <= maxModelLen) return Optional.empty();
        return Optional.of("This model's maximum context length is " + maxModelLen + " tokens. However, you requested "
                + requested + " tokens (" + promptTokens + " in the prompt, " + completionTokens
                + " in the completion).");
    }
}

package ai.arbor.gpu.protocol;

/** Why a request ended: OpenAI's "stop" (EOS, a stop token or string) or "length"; ABORT when cancelled. */
public enum FinishReason {
    STOP("stop"), LENGTH("length"), ABORT("abort");

    private final String openAi;

    FinishReason(String openAi) { this.openAi = openAi; }

    public String openAi() { return openAi; }
}

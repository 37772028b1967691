package ai.arbor.gpu.tokenizer;

/** A chat template refused the conversation ({@code raise_exception}) or failed to render. */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) { super(message); }

    public ChatTemplateException(String message, Throwable cause) { super(message, cause); }
}

package ai.arbor.http.chat;

/**
 * How one chat request's output is read back into message fields.
 *
 * @param tools             how tool calls are found: not at all, by the model's format (tool_choice auto), or as the
 *                          shapes that constrained decoding writes for a named function or {@code required}
 * @param function          the function {@code tool_choice} names (tools NAMED), else null
 * @param parallelToolCalls false: only the first call is kept
 * @param reasoning         how {@code <think>…</think>} is split off, if at all
 * @param thinkingOpen      the prompt already opened the reasoning (ends with {@code <think>})
 */
public record OutputRules(Tools tools, String function, boolean parallelToolCalls, Reasoning reasoning,
                          boolean thinkingOpen) {

    public enum Tools { NONE, HERMES, LLAMA3_JSON, NAMED, REQUIRED }

    public enum Reasoning { NONE, QWEN3, DEEPSEEK_R1 }

    public static final OutputRules PLAIN = new OutputRules(Tools.NONE, null, true, Reasoning.NONE, false);

    /** Nothing to parse: the text is the content. */
    public boolean plain() { return tools == Tools.NONE && reasoning == Reasoning.NONE; }

    /**
     * A choice that made calls ends with finish_reason {@code tool_calls}; not for a named function, which OpenAI and
     * vLLM end with {@code stop}.
     */
    public boolean callsFinishAsToolCalls() { return tools != Tools.NAMED; }

    public ChatOutputParser newParser() { return new ChatOutputParser(this); }

    ToolCallReader newToolReader() {
        return switch (tools) {
            case NONE -> ToolCallReader.plain();
            case HERMES -> new HermesReader();
            case LLAMA3_JSON -> JsonCallsReader.llama();
            case NAMED -> ToolCallReader.named(function);
            case REQUIRED -> JsonCallsReader.required();
        };
    }
}

package ai.arbor.http;

import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.config.ChatSettings;
import ai.arbor.http.chat.OutputRules;

/**
 * How a served model writes tool calls and reasoning: from {@code --tool-call-parser} / {@code --reasoning-parser},
 * or, for tool calls on {@code auto}, from its chat template (a template that writes {@code <tool_call>} reads
 * Hermes-style calls, one that writes {@code <|python_tag|>} Llama 3.x JSON) and then its architecture.
 */
record ChatFormat(OutputRules.Tools toolParser, OutputRules.Reasoning reasoning) {

    static ChatFormat of(ChatSettings settings, ModelTokenizer tokenizer) {
        return new ChatFormat(tools(settings.toolCallParser(), tokenizer), switch (settings.reasoningParser()) {
            case "qwen3" -> OutputRules.Reasoning.QWEN3;
            case "deepseek_r1" -> OutputRules.Reasoning.DEEPSEEK_R1;
            default -> OutputRules.Reasoning.NONE;
        });
    }

    private static OutputRules.Tools tools(String parser, ModelTokenizer tokenizer) {
        switch (parser) {
            case "hermes":
                return OutputRules.Tools.HERMES;
            case "llama3_json":
                return OutputRules.Tools.LLAMA3_JSON;
            case "none":
                return OutputRules.Tools.NONE;
            default:
                break;
        }
        return detect(tokenizer.chatTemplateSource(), tokenizer.architecture());
    }

    /** {@code auto}: the template's call format, else the architecture's usual one. */
    static OutputRules.Tools detect(String template, String arch) {
        if (template != null && template.contains("<tool_call>")) return OutputRules.Tools.HERMES;
        if (template != null && template.contains("<|python_tag|>")) return OutputRules.Tools.LLAMA3_JSON;
        if (arch.startsWith("Qwen")) return OutputRules.Tools.HERMES;
        if (arch.startsWith("Llama")) return OutputRules.Tools.LLAMA3_JSON;
        return OutputRules.Tools.NONE;
    }
}

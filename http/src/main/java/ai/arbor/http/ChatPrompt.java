package ai.arbor.http;

import ai.arbor.config.ChatSettings;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A conversation rendered by the model's chat template and tokenized, with what the template was given besides the
 * messages: {@code add_generation_prompt}, {@code chat_template_kwargs} (e.g. {@code enable_thinking}),
 * {@code reasoning_effort} (passed on as vLLM does; templates such as gpt-oss's read it) and the request's tools.
 * Shared by chat completions and {@code /tokenize}.
 */
record ChatPrompt(int[] tokenIds, ChatTools tools, ChatFormat format) {
    private static final Set<String> REASONING_EFFORTS = Set.of("none", "minimal", "low", "medium", "high");

    static ChatPrompt render(JsonFields f, List<Map<String, Object>> messages, ServedModel model, ChatSettings chat) {
        boolean addGenerationPrompt = f.bool("add_generation_prompt", true);
        Map<String, Object> templateVars = new LinkedHashMap<>();
        JsonNode kwargs = f.raw("chat_template_kwargs");
        if (kwargs != null) {
            if (!kwargs.isObject()) throw ApiError.badParam("chat_template_kwargs", "'chat_template_kwargs' must be an object");
            templateVars.putAll(Json.MAPPER.convertValue(kwargs, Map.class));
        }
        if (f.has("reasoning_effort")) {
            String effort = f.requiredString("reasoning_effort");
            if (!REASONING_EFFORTS.contains(effort)) {
                throw ApiError.badParam("reasoning_effort", "'reasoning_effort' must be one of none, minimal, low, "
                        + "medium, high; got '" + effort + "'");
            }
            templateVars.put("reasoning_effort", effort);
        }
        ChatFormat format = ChatFormat.of(chat, model.frontend().tokenizer());
        ChatTools tools = ChatTools.parse(f, format.toolParser());
        if (tools.templateTools() != null) templateVars.putIfAbsent("tools", tools.templateTools());
        try {
            return new ChatPrompt(model.frontend().tokenizer().encodeChat(messages, addGenerationPrompt, templateVars),
                    tools, format);
        } catch (IllegalArgumentException e) {
            throw ApiError.badParam("messages", "the chat template rejected the messages: " + e.getMessage());
        }
    }
}

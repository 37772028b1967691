package ai.arbor.http;

import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.config.ChatSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.Set;

/**
 * vLLM's {@code POST /tokenize} (a prompt, or chat messages through the template) and {@code POST /detokenize}. The
 * frontend holds the tokenizer, so neither reaches a worker. {@code model} may be left out while one model is served.
 */
final class Tokenization {
    private static final Set<String> PROMPT_FIELDS = Set.of("model", "prompt", "add_special_tokens", "return_token_strs");
    private static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "add_generation_prompt",
            "add_special_tokens", "return_token_strs", "chat_template_kwargs", "tools", "tool_choice",
            "continue_final_message", "reasoning_effort");
    private static final Set<String> DETOKENIZE_FIELDS = Set.of("model", "tokens");

    private final ModelRegistry models;
    private final ChatSettings chat;

    Tokenization(ModelRegistry models, ChatSettings chat) {
        this.models = models;
        this.chat = chat;
    }

    ObjectNode tokenize(JsonNode body) {
        boolean isChat = body != null && body.has("messages");
        JsonFields f = fields(body, isChat ? CHAT_FIELDS : PROMPT_FIELDS);
        ServedModel model = model(f);
        ModelTokenizer tok = model.frontend().tokenizer();
        int[] ids;
        if (isChat) {
            if (f.bool("continue_final_message", false)) {
                throw ApiError.badParam("continue_final_message", "'continue_final_message' is not supported");
            }
            ids = ChatPrompt.render(f, ChatMessages.parse(f.raw("messages")), model, chat).tokenIds();
        } else {
            JsonNode prompt = f.raw("prompt");
            if (prompt == null || !prompt.isTextual()) {
                throw ApiError.badParam("prompt", "'prompt' (a string) or 'messages' is required");
            }
            // as vLLM: a plain prompt gets the tokenizer's special tokens unless asked not to
            ids = f.bool("add_special_tokens", true) ? tok.encodePrompt(prompt.textValue())
                    : tok.encodeNoSpecial(prompt.textValue());
        }
        ObjectNode out = Json.object();
        out.put("count", ids.length);
        out.put("max_model_len", model.maxModelLen());
        ArrayNode tokens = out.putArray("tokens");
        for (int id : ids) tokens.add(id);
        if (f.bool("return_token_strs", false)) {
            ArrayNode strs = out.putArray("token_strs");
            for (int id : ids) strs.add(tok.tokenText(id));
        } else {
            out.putNull("token_strs");
        }
        return out;
    }

    ObjectNode detokenize(JsonNode body) {
        JsonFields f = fields(body, DETOKENIZE_FIELDS);
        ServedModel model = model(f);
        ModelTokenizer tok = model.frontend().tokenizer();
        JsonNode tokens = f.raw("tokens");
        if (tokens == null || !tokens.isArray()) throw ApiError.badParam("tokens", "'tokens' must be an array of token ids");
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= tok.vocabSize()) {
                throw ApiError.badParam("tokens", "tokens[" + i + "] must be a token id between 0 and "
                        + (tok.vocabSize() - 1));
            }
            ids[i] = t.intValue();
        }
        return Json.object().put("prompt", tok.decode(ids));
    }

    private static JsonFields fields(JsonNode body, Set<String> allowed) {
        if (body == null || !body.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
        body.fieldNames().forEachRemaining(name -> {
            if (!allowed.contains(name)) {
                throw new ApiError(400, "invalid_request_error", "Unrecognized request argument supplied: " + name,
                        name, "unknown_parameter");
            }
        });
        return new JsonFields(body);
    }

    /** The named model, or the only one when none is named. */
    private ServedModel model(JsonFields f) {
        if (f.has("model")) {
            String name = f.requiredString("model");
            return models.get(name).orElseThrow(() -> ApiError.modelNotFound(name));
        }
        Collection<ServedModel> all = models.all();
        if (all.size() != 1) throw ApiError.badParam("model", "'model' is required when " + all.size() + " models are served");
        return all.iterator().next();
    }
}

package ai.arbor.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * A {@code POST /v1/responses} request turned into the chat completion request it means, so that one parser checks,
 * templates and tokenizes both: {@code instructions} become a system message, {@code input} items become messages
 * (text, {@code function_call} as an assistant tool call, {@code function_call_output} as a tool result), function
 * tools and {@code tool_choice} move into chat's shape. No responses are stored, so {@code previous_response_id}
 * is a 400.
 *
 * @param body the request as sent (the response object echoes some of its fields)
 * @param chat the equivalent chat completion request
 */
record ResponsesRequest(JsonNode body, ObjectNode chat) {
    private static final Set<String> FIELDS = Set.of("model", "input", "instructions", "tools", "tool_choice",
            "parallel_tool_calls", "max_output_tokens", "temperature", "top_p", "stream", "reasoning", "text",
            "previous_response_id", "store", "metadata", "user", "service_tier", "truncation", "include",
            "background", "seed", "top_k", "stop");

    static ResponsesRequest parse(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
        body.fieldNames().forEachRemaining(name -> {
            if (!FIELDS.contains(name)) {
                throw new ApiError(400, "invalid_request_error", "Unrecognized request argument supplied: " + name,
                        name, "unknown_parameter");
            }
        });
        if (body.hasNonNull("previous_response_id")) {
            throw ApiError.badParam("previous_response_id", "'previous_response_id' is not supported: this server "
                    + "stores no responses; send the whole conversation in 'input'");
        }
        if (body.path("background").asBoolean(false)) {
            throw ApiError.badParam("background", "'background' responses are not supported");
        }
        JsonNode format = body.path("text").path("format");
        if (!format.isMissingNode() && !"text".equals(format.path("type").asText())) {
            throw ApiError.badParam("text.format", "only text.format {\"type\": \"text\"} is supported");
        }
        ObjectNode chat = Json.object();
        copy(body, chat, "model");
        copy(body, chat, "temperature");
        copy(body, chat, "top_p");
        copy(body, chat, "top_k");
        copy(body, chat, "seed");
        copy(body, chat, "stop");
        copy(body, chat, "stream");
        copy(body, chat, "parallel_tool_calls");
        if (body.hasNonNull("max_output_tokens")) chat.set("max_tokens", body.get("max_output_tokens"));
        JsonNode effort = body.path("reasoning").path("effort");
        if (effort.isTextual()) chat.set("reasoning_effort", effort);
        chat.set("messages", messages(body));
        if (body.hasNonNull("tools")) chat.set("tools", tools(body.get("tools")));
        if (body.hasNonNull("tool_choice")) chat.set("tool_choice", toolChoice(body.get("tool_choice")));
        return new ResponsesRequest(body, chat);
    }

    private static void copy(JsonNode from, ObjectNode to, String field) {
        if (from.hasNonNull(field)) to.set(field, from.get(field));
    }

    private static ArrayNode messages(JsonNode body) {
        ArrayNode out = Json.F.arrayNode();
        JsonNode instructions = body.get("instructions");
        if (instructions != null && !instructions.isNull()) {
            if (!instructions.isTextual()) throw ApiError.badParam("instructions", "'instructions' must be a string");
            out.addObject().put("role", "system").put("content", instructions.textValue());
        }
        JsonNode input = body.get("input");
        if (input == null || input.isNull()) throw ApiError.badParam("input", "'input' is a required property");
        if (input.isTextual()) {
            out.addObject().put("role", "user").put("content", input.textValue());
            return out;
        }
        if (!input.isArray()) throw ApiError.badParam("input", "'input' must be a string or an array of input items");
        ObjectNode pendingCalls = null;
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String where = "input[" + i + "]";
            String type = item.path("type").asText(item.has("role") ? "message" : "");
            switch (type) {
                case "message" -> {
                    pendingCalls = null;
                    ObjectNode m = out.addObject();
                    m.set("role", item.get("role"));
                    m.put("content", text(item.get("content"), where + ".content"));
                }
                case "function_call" -> {
                    // consecutive calls are one assistant turn, as chat templates expect
                    if (pendingCalls == null) {
                        pendingCalls = out.addObject().put("role", "assistant");
                        pendingCalls.putNull("content");
                        pendingCalls.putArray("tool_calls");
                    }
                    ObjectNode call = ((ArrayNode) pendingCalls.get("tool_calls")).addObject();
                    call.set("id", required(item, "call_id", where));
                    call.put("type", "function");
                    call.putObject("function").<ObjectNode>set("name", required(item, "name", where))
                            .set("arguments", required(item, "arguments", where));
                }
                case "function_call_output" -> out.addObject().put("role", "tool")
                        .<ObjectNode>set("tool_call_id", required(item, "call_id", where))
                        .put("content", item.path("output").isTextual() ? item.get("output").textValue()
                                : item.path("output").toString());
                case "reasoning" -> { } // earlier reasoning is not sent back to the model, as chat templates drop it
                default -> throw ApiError.badParam(where + ".type", where + ".type '" + type + "' is not supported; "
                        + "use message, function_call or function_call_output items");
            }
        }
        return out;
    }

    private static JsonNode required(JsonNode item, String field, String where) {
        JsonNode v = item.get(field);
        if (v == null || !v.isTextual()) throw ApiError.badParam(where + "." + field, where + "." + field + " must be a string");
        return v;
    }

    /** A string, or parts of type input_text / output_text joined with newlines. */
    private static String text(JsonNode content, String where) {
        if (content != null && content.isTextual()) return content.textValue();
        if (content == null || !content.isArray()) throw ApiError.badParam(where, where + " must be a string or an array of parts");
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) {
            String type = part.path("type").asText();
            if (!(type.equals("input_text") || type.equals("output_text")) || !part.path("text").isTextual()) {
                throw ApiError.badParam(where, where + ": only input_text and output_text parts are supported");
            }
            if (sb.length() > 0) sb.append('\n');
            sb.append(part.get("text").textValue());
        }
        return sb.toString();
    }

    private static ArrayNode tools(JsonNode tools) {
        if (!tools.isArray()) throw ApiError.badParam("tools", "'tools' must be an array");
        ArrayNode out = Json.F.arrayNode();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            if (!"function".equals(t.path("type").asText())) {
                throw ApiError.badParam("tools[" + i + "].type", "only function tools are supported");
            }
            ObjectNode fn = Json.object();
            for (String f : new String[] {"name", "description", "parameters", "strict"}) {
                if (t.hasNonNull(f)) fn.set(f, t.get(f));
            }
            out.addObject().put("type", "function").set("function", fn);
        }
        return out;
    }

    private static JsonNode toolChoice(JsonNode choice) {
        if (choice.isTextual()) return choice;
        if (choice.isObject() && "function".equals(choice.path("type").asText()) && choice.path("name").isTextual()) {
            ObjectNode named = Json.object().put("type", "function");
            named.putObject("function").set("name", choice.get("name"));
            return named;
        }
        throw ApiError.badParam("tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or "
                + "{\"type\": \"function\", \"name\": ...}");
    }
}

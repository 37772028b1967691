package ai.arbor.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A chat request's {@code messages}, checked and turned into what Hugging Face chat templates read: role and content,
 * an assistant's {@code tool_calls} with their arguments as objects (templates write them with {@code tojson}, as
 * vLLM passes them), and {@code tool} results with their {@code tool_call_id}. Every problem is a 400 naming the
 * field, e.g. {@code messages[2].role}.
 */
final class ChatMessages {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private ChatMessages() {}

    static List<Map<String, Object>> parse(JsonNode arr) {
        if (arr == null) throw ApiError.badParam("messages", "'messages' is a required property");
        if (!arr.isArray() || arr.isEmpty()) throw ApiError.badParam("messages", "'messages' must be a non-empty array");
        List<Map<String, Object>> out = new ArrayList<>();
        // ids of the latest assistant turn's calls: a tool message answers one of them
        Set<String> openCalls = new HashSet<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode m = arr.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiError.badParam(where, where + " must be an object");
            JsonNode roleNode = m.get("role");
            if (roleNode == null || !roleNode.isTextual()) {
                throw ApiError.badParam(where + ".role", where + ".role must be a string");
            }
            String role = roleNode.textValue();
            if (!ROLES.contains(role)) {
                throw ApiError.badParam(where + ".role", where + ".role '" + role + "' is not one of 'system', "
                        + "'developer', 'user', 'assistant', 'tool'");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            // templates know system, not OpenAI's newer name for it
            msg.put("role", role.equals("developer") ? "system" : role);
            JsonNode content = m.get("content");
            boolean hasCalls = m.hasNonNull("tool_calls");
            if ((content == null || content.isNull()) && !role.equals("assistant")) {
                throw ApiError.badParam(where + ".content", where + ".content is required for role '" + role + "'");
            }
            msg.put("content", content(content, where + ".content"));
            JsonNode name = m.get("name");
            if (name != null && !name.isNull()) {
                if (!name.isTextual()) throw ApiError.badParam(where + ".name", where + ".name must be a string");
                msg.put("name", name.textValue());
            }
            if (role.equals("assistant")) {
                openCalls.clear();
                if (hasCalls) msg.put("tool_calls", toolCalls(m.get("tool_calls"), where + ".tool_calls", openCalls));
                JsonNode reasoning = m.get("reasoning_content");
                if (reasoning != null && reasoning.isTextual()) msg.put("reasoning_content", reasoning.textValue());
            } else if (hasCalls) {
                throw ApiError.badParam(where + ".tool_calls", where + ".tool_calls is only allowed on assistant messages");
            }
            if (role.equals("tool")) {
                JsonNode id = m.get("tool_call_id");
                if (id == null || !id.isTextual()) {
                    throw ApiError.badParam(where + ".tool_call_id", where + ".tool_call_id is required for role 'tool'");
                }
                if (!openCalls.contains(id.textValue())) {
                    throw ApiError.badParam(where + ".tool_call_id", where + ": messages with role 'tool' must answer "
                            + "a tool call of the preceding assistant message; no call has id '" + id.textValue() + "'");
                }
                msg.put("tool_call_id", id.textValue());
            } else if (!role.equals("assistant")) {
                openCalls.clear();
            }
            out.add(msg);
        }
        return out;
    }

    private static List<Map<String, Object>> toolCalls(JsonNode calls, String where, Set<String> ids) {
        if (!calls.isArray()) throw ApiError.badParam(where, where + " must be an array");
        List<Map<String, Object>> out = new ArrayList<>();
        for (int j = 0; j < calls.size(); j++) {
            JsonNode c = calls.get(j);
            String at = where + "[" + j + "]";
            if (!c.isObject()) throw ApiError.badParam(at, at + " must be an object");
            JsonNode id = c.get("id");
            if (id == null || !id.isTextual()) throw ApiError.badParam(at + ".id", at + ".id must be a string");
            JsonNode type = c.get("type");
            if (type != null && !"function".equals(type.asText())) {
                throw ApiError.badParam(at + ".type", at + ".type must be 'function'");
            }
            JsonNode fn = c.get("function");
            if (fn == null || !fn.isObject()) throw ApiError.badParam(at + ".function", at + ".function must be an object");
            JsonNode fname = fn.get("name");
            if (fname == null || !fname.isTextual()) {
                throw ApiError.badParam(at + ".function.name", at + ".function.name must be a string");
            }
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", fname.textValue());
            function.put("arguments", arguments(fn.get("arguments"), at + ".function.arguments"));
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("id", id.textValue());
            call.put("type", "function");
            call.put("function", function);
            out.add(call);
            ids.add(id.textValue());
        }
        return out;
    }

    /** OpenAI sends arguments as a JSON string; templates expect the object. */
    private static Object arguments(JsonNode a, String where) {
        if (a == null || a.isNull()) return Map.of();
        JsonNode parsed = a;
        if (a.isTextual()) {
            try {
                parsed = Json.MAPPER.readTree(a.textValue().isBlank() ? "{}" : a.textValue());
            } catch (Exception e) {
                throw ApiError.badParam(where, where + " must be a JSON object encoded as a string");
            }
        }
        if (!parsed.isObject()) throw ApiError.badParam(where, where + " must be a JSON object encoded as a string");
        return Json.MAPPER.convertValue(parsed, Map.class);
    }

    /** A string, null, or an array of {"type":"text","text":...} parts (joined with newlines). */
    static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.textValue();
        if (!c.isArray()) throw ApiError.badParam(where, where + " must be a string or an array of content parts");
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw ApiError.badParam(where, where + ": only text content parts are supported");
            }
            if (sb.length() > 0) sb.append('\n');
            sb.append(part.get("text").textValue());
        }
        return sb.toString();
    }
}

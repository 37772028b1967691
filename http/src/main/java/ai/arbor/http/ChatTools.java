package ai.arbor.http;

import ai.arbor.http.chat.OutputRules;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A chat request's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}, checked: the tools the chat
 * template gets, how the output is read back ({@link OutputRules.Tools}), and for {@code required} or a named
 * function the JSON Schema that constrained decoding holds the output to, built as vLLM does
 * ({@code get_json_schema_from_tools}): the named function's parameters, or an array of
 * {@code {"name", "parameters"}} objects, one per allowed function.
 *
 * @param templateTools  the tools in OpenAI's shape, for the template; null when the request has none
 * @param mode           how tool calls are read from the output
 * @param function       the function tool_choice names, else null
 * @param schema         what constrained decoding must enforce (required or named), else null
 */
record ChatTools(List<Map<String, Object>> templateTools, OutputRules.Tools mode, String function,
                 boolean parallelToolCalls, ObjectNode schema) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    static final ChatTools NONE = new ChatTools(null, OutputRules.Tools.NONE, null, true, null);

    /** @param autoParser how the served model writes calls (HERMES, LLAMA3_JSON), or NONE if it has no format */
    static ChatTools parse(JsonFields f, OutputRules.Tools autoParser) {
        JsonNode tools = f.raw("tools");
        JsonNode choice = f.raw("tool_choice");
        boolean parallel = f.bool("parallel_tool_calls", true);
        if (tools == null || tools.isEmpty()) {
            if (tools != null && !tools.isArray()) throw ApiError.badParam("tools", "'tools' must be an array");
            if (choice != null && !(choice.isTextual() && choice.textValue().equals("none"))) {
                throw ApiError.badParam("tool_choice", "'tool_choice' is only allowed when 'tools' are specified");
            }
            return NONE;
        }
        if (!tools.isArray()) throw ApiError.badParam("tools", "'tools' must be an array");
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        for (int i = 0; i < tools.size(); i++) {
            String where = "tools[" + i + "]";
            JsonNode t = tools.get(i);
            if (!t.isObject()) throw ApiError.badParam(where, where + " must be an object");
            if (!"function".equals(t.path("type").asText(null))) {
                throw ApiError.badParam(where + ".type", where + ".type must be 'function'");
            }
            JsonNode fn = t.get("function");
            if (fn == null || !fn.isObject()) throw ApiError.badParam(where + ".function", where + ".function must be an object");
            JsonNode name = fn.get("name");
            if (name == null || !name.isTextual() || !NAME.matcher(name.textValue()).matches()) {
                throw ApiError.badParam(where + ".function.name", where + ".function.name must be 1 to 64 letters, "
                        + "digits, underscores or dashes");
            }
            if (byName.containsKey(name.textValue())) {
                throw ApiError.badParam(where + ".function.name", "two tools are named '" + name.textValue() + "'");
            }
            JsonNode description = fn.get("description");
            if (description != null && !description.isNull() && !description.isTextual()) {
                throw ApiError.badParam(where + ".function.description", where + ".function.description must be a string");
            }
            JsonNode params = fn.get("parameters");
            if (params != null && !params.isNull()) ToolSchemaCheck.check(params, where + ".function.parameters");
            JsonNode strict = fn.get("strict");
            if (strict != null && !strict.isNull() && !strict.isBoolean()) {
                throw ApiError.badParam(where + ".function.strict", where + ".function.strict must be a boolean");
            }
            byName.put(name.textValue(), fn);
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> templateTools = Json.MAPPER.convertValue(tools, List.class);
        if (choice == null || choice.isTextual() && choice.textValue().equals("auto")) {
            if (autoParser == OutputRules.Tools.NONE) {
                throw ApiError.badParam("tool_choice", "\"auto\" tool choice needs a tool-call parser for this model "
                        + "(--tool-call-parser hermes or llama3_json); \"required\" or a named function work without one");
            }
            return new ChatTools(templateTools, autoParser, null, parallel, null);
        }
        if (choice.isTextual() && choice.textValue().equals("none")) {
            // as vLLM: the tools stay in the prompt, the output is plain content
            return new ChatTools(templateTools, OutputRules.Tools.NONE, null, parallel, null);
        }
        if (choice.isTextual() && choice.textValue().equals("required")) {
            return new ChatTools(templateTools, OutputRules.Tools.REQUIRED, null, parallel,
                    requiredSchema(byName, parallel));
        }
        if (choice.isObject()) {
            if (!"function".equals(choice.path("type").asText(null))) {
                throw ApiError.badParam("tool_choice.type", "'tool_choice.type' must be 'function'");
            }
            JsonNode name = choice.path("function").path("name");
            if (!name.isTextual()) {
                throw ApiError.badParam("tool_choice.function.name", "'tool_choice.function.name' must be a string");
            }
            JsonNode fn = byName.get(name.textValue());
            if (fn == null) {
                throw ApiError.badParam("tool_choice.function.name", "'tool_choice' names the function '"
                        + name.textValue() + "', which is not among 'tools'");
            }
            return new ChatTools(templateTools, OutputRules.Tools.NAMED, name.textValue(), parallel, parameters(fn));
        }
        throw ApiError.badParam("tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or "
                + "{\"type\": \"function\", \"function\": {\"name\": ...}}");
    }

    private static ObjectNode parameters(JsonNode fn) {
        JsonNode p = fn.get("parameters");
        if (p == null || p.isNull() || !p.isObject()) return Json.object().put("type", "object");
        return p.deepCopy();
    }

    private static ObjectNode requiredSchema(Map<String, JsonNode> byName, boolean parallel) {
        ObjectNode schema = Json.object();
        schema.put("type", "array");
        schema.put("minItems", 1);
        if (!parallel) schema.put("maxItems", 1);
        ArrayNode anyOf = schema.putObject("items").putArray("anyOf");
        ObjectNode defs = Json.object();
        List<String> names = new ArrayList<>(byName.keySet());
        for (String name : names) {
            ObjectNode params = parameters(byName.get(name));
            // one $defs for the whole array, as vLLM merges them
            JsonNode own = params.remove("$defs");
            if (own != null) own.properties().forEach(e -> defs.set(e.getKey(), e.getValue()));
            ObjectNode item = anyOf.addObject();
            item.put("type", "object");
            ObjectNode props = item.putObject("properties");
            props.putObject("name").putArray("enum").add(name);
            props.set("parameters", params);
            item.putArray("required").add("name").add("parameters");
        }
        if (!defs.isEmpty()) schema.set("$defs", defs);
        return schema;
    }
}

package ai.arbor.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a function's {@code parameters} is a usable JSON Schema: the shape errors that would otherwise reach
 * the chat template or the constraint compiler as a 500 (a non-object schema, an unknown {@code type}, properties
 * that are not schemas, a {@code required} that is not a list of names). Each problem is a 400 naming the path.
 */
final class ToolSchemaCheck {
    private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");
    private static final Set<String> SCHEMA_MAPS = Set.of("properties", "$defs", "definitions", "patternProperties");
    private static final Set<String> SCHEMA_LISTS = Set.of("anyOf", "oneOf", "allOf", "prefixItems");

    private ToolSchemaCheck() {}

    static void check(JsonNode schema, String where) {
        if (schema.isBoolean()) return;
        if (!schema.isObject()) throw ApiError.badParam(where, where + " must be a JSON Schema object");
        JsonNode type = schema.get("type");
        if (type != null) {
            if (type.isTextual()) {
                checkType(type.textValue(), where);
            } else if (type.isArray()) {
                for (JsonNode t : type) {
                    if (!t.isTextual()) throw ApiError.badParam(where + ".type", where + ".type must hold type names");
                    checkType(t.textValue(), where);
                }
            } else {
                throw ApiError.badParam(where + ".type", where + ".type must be a string or an array of strings");
            }
        }
        for (String key : SCHEMA_MAPS) {
            JsonNode map = schema.get(key);
            if (map == null) continue;
            if (!map.isObject()) throw ApiError.badParam(where + "." + key, where + "." + key + " must be an object");
            for (Map.Entry<String, JsonNode> e : map.properties()) check(e.getValue(), where + "." + key + "." + e.getKey());
        }
        for (String key : SCHEMA_LISTS) {
            JsonNode list = schema.get(key);
            if (list == null) continue;
            if (!list.isArray()) throw ApiError.badParam(where + "." + key, where + "." + key + " must be an array");
            for (int i = 0; i < list.size(); i++) check(list.get(i), where + "." + key + "[" + i + "]");
        }
        JsonNode items = schema.get("items");
        if (items != null) check(items, where + ".items");
        JsonNode additional = schema.get("additionalProperties");
        if (additional != null) check(additional, where + ".additionalProperties");
        JsonNode required = schema.get("required");
        if (required != null) {
            if (!required.isArray()) throw ApiError.badParam(where + ".required", where + ".required must be an array");
            for (JsonNode r : required) {
                if (!r.isTextual()) throw ApiError.badParam(where + ".required", where + ".required must hold property names");
            }
        }
        JsonNode en = schema.get("enum");
        if (en != null && (!en.isArray() || en.isEmpty())) {
            throw ApiError.badParam(where + ".enum", where + ".enum must be a non-empty array");
        }
    }

    private static void checkType(String type, String where) {
        if (!TYPES.contains(type)) {
            throw ApiError.badParam(where + ".type", where + ".type '" + type + "' is not a JSON Schema type");
        }
    }
}

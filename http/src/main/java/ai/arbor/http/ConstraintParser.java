package ai.arbor.http;

import ai.arbor.structured.ConstraintException;
import ai.arbor.structured.GrammarCompiler;
import ai.arbor.gpu.protocol.OutputConstraint;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a request's output constraint: OpenAI's {@code response_format} or vLLM's {@code structured_outputs}
 * ({@code json}, {@code regex}, {@code choice}, {@code json_object}), and compiles it once here so a bad schema is a
 * 400 naming the field, the keyword and where it is, before anything is tokenized or queued.
 */
final class ConstraintParser {
    static final Set<String> FIELDS = Set.of("response_format", "structured_outputs");
    private static final Set<String> STRUCTURED_KINDS = Set.of("json", "regex", "choice", "json_object");
    /** vLLM options that change how a grammar is built; accepted only at the values that match what we build. */
    private static final Set<String> STRUCTURED_OPTIONS = Set.of("disable_fallback", "disable_any_whitespace",
            "disable_additional_properties", "whitespace_pattern", "backend", "grammar", "structural_tag");

    private ConstraintParser() {}

    /** The constraint the request asks for, or null for free text. */
    static OutputConstraint parse(JsonNode responseFormat, JsonNode structuredOutputs) {
        OutputConstraint fromFormat = responseFormat == null || responseFormat.isNull() ? null : responseFormat(responseFormat);
        OutputConstraint fromExtras = structuredOutputs == null || structuredOutputs.isNull() ? null
                : structuredOutputs(structuredOutputs);
        if (fromFormat != null && fromExtras != null) {
            throw ApiError.badParam("structured_outputs", "give either a non-text 'response_format' or 'structured_outputs', not both");
        }
        return fromFormat != null ? fromFormat : fromExtras;
    }

    private static OutputConstraint responseFormat(JsonNode rf) {
        if (!rf.isObject()) throw ApiError.badParam("response_format", "'response_format' must be an object");
        String type = rf.path("type").asText("");
        switch (type) {
            case "text":
                return null;
            case "json_object":
                return compiled(OutputConstraint.jsonObject(), "response_format");
            case "json_schema": {
                JsonNode js = rf.get("json_schema");
                if (js == null || !js.isObject()) {
                    throw ApiError.badParam("response_format.json_schema",
                            "'response_format.json_schema' is required for type 'json_schema' and must be an object");
                }
                JsonNode name = js.get("name");
                if (name != null && !name.isTextual()) {
                    throw ApiError.badParam("response_format.json_schema.name", "'response_format.json_schema.name' must be a string");
                }
                JsonNode schema = js.get("schema");
                if (schema == null || !(schema.isObject() || schema.isBoolean())) {
                    throw ApiError.badParam("response_format.json_schema.schema",
                            "'response_format.json_schema.schema' is required and must be a JSON Schema object");
                }
                return compiled(OutputConstraint.jsonSchema(schema.toString()), "response_format.json_schema.schema");
            }
            default:
                throw ApiError.badParam("response_format.type", "'response_format.type' must be one of 'text', "
                        + "'json_object' or 'json_schema', got '" + type + "'");
        }
    }

    private static OutputConstraint structuredOutputs(JsonNode so) {
        if (!so.isObject()) throw ApiError.badParam("structured_outputs", "'structured_outputs' must be an object");
        List<String> kinds = new ArrayList<>();
        so.fieldNames().forEachRemaining(k -> {
            JsonNode v = so.get(k);
            if (STRUCTURED_KINDS.contains(k) && !v.isNull() && !(v.isBoolean() && !v.booleanValue())) kinds.add(k);
            else if (!STRUCTURED_KINDS.contains(k)) option(k, v);
        });
        if (kinds.size() != 1) {
            throw ApiError.badParam("structured_outputs", "'structured_outputs' needs exactly one of json, regex, choice "
                    + "or json_object, got " + (kinds.isEmpty() ? "none" : String.join(", ", kinds)));
        }
        String kind = kinds.get(0);
        JsonNode v = so.get(kind);
        String param = "structured_outputs." + kind;
        return switch (kind) {
            case "json" -> {
                // vLLM takes the schema as an object or as a JSON string.
                String schema = v.isTextual() ? v.textValue() : v.toString();
                if (!(v.isTextual() || v.isObject() || v.isBoolean())) {
                    throw ApiError.badParam(param, "'" + param + "' must be a JSON Schema (an object or a string)");
                }
                yield compiled(OutputConstraint.jsonSchema(schema), param);
            }
            case "regex" -> {
                if (!v.isTextual()) throw ApiError.badParam(param, "'" + param + "' must be a string");
                yield compiled(OutputConstraint.regex(v.textValue()), param);
            }
            case "choice" -> {
                if (!v.isArray() || v.isEmpty()) throw ApiError.badParam(param, "'" + param + "' must be a non-empty array of strings");
                for (JsonNode c : v) {
                    if (!c.isTextual()) throw ApiError.badParam(param, "'" + param + "' must contain only strings");
                }
                yield compiled(OutputConstraint.choice(v.toString()), param);
            }
            default -> {
                if (!v.isBoolean()) throw ApiError.badParam(param, "'" + param + "' must be a boolean");
                yield compiled(OutputConstraint.jsonObject(), param);
            }
        };
    }

    private static void option(String k, JsonNode v) {
        String param = "structured_outputs." + k;
        if (!STRUCTURED_OPTIONS.contains(k)) {
            throw ApiError.badParam(param, "unknown structured_outputs field '" + k + "'");
        }
        if (v.isNull()) return;
        switch (k) {
            case "grammar", "structural_tag", "whitespace_pattern" ->
                    throw ApiError.badParam(param, "'" + param + "' is not supported; use json, regex or choice");
            case "backend" -> {
                // whatever the client names, this server has one backend; naming it is not an error
            }
            default -> {
                if (!v.isBoolean()) throw ApiError.badParam(param, "'" + param + "' must be a boolean");
            }
        }
    }

    /** A JSON Schema the server built (a tool call's), compiled here so that one the engine cannot hold is a 400. */
    static OutputConstraint jsonSchema(JsonNode schema, String param) {
        return compiled(OutputConstraint.jsonSchema(schema.toString()), param);
    }

    private static OutputConstraint compiled(OutputConstraint c, String param) {
        try {
            GrammarCompiler.shared().validate(c);
        } catch (ConstraintException e) {
            String where = e.where().isEmpty() ? "" : " at " + e.where();
            throw ApiError.badParam(param, "invalid '" + param + "'" + where + ": " + stripWhere(e));
        }
        return c;
    }

    private static String stripWhere(ConstraintException e) {
        String m = e.getMessage();
        String suffix = " (at " + e.where() + ")";
        return m.endsWith(suffix) ? m.substring(0, m.length() - suffix.length()) : m;
    }
}

package ai.arbor.structured;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** Which JSON Schema keywords the compiler honours, which it knows but refuses, and small readers for their values. */
final class SchemaKeywords {
    static final Set<String> SUPPORTED = Set.of("type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
            "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength",
            "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");

    /** Real JSON Schema keywords a regular language cannot express exactly (or not cheaply): a 400, not a silent skip. */
    static final Set<String> SUPPORTED_ELSEWHERE = Set.of("not", "if", "then", "else", "patternProperties",
            "propertyNames", "minProperties", "maxProperties", "uniqueItems", "contains", "minContains", "maxContains",
            "prefixItems", "additionalItems", "unevaluatedProperties", "unevaluatedItems", "dependentRequired",
            "dependentSchemas", "dependencies", "multipleOf", "$anchor", "$dynamicRef", "$dynamicAnchor",
            "$recursiveRef", "$recursiveAnchor", "$vocabulary");

    private SchemaKeywords() {}

    /** True when {@code s} has a keyword that only applies to instances of {@code type}. */
    static boolean impliesType(JsonNode s, String type) {
        return switch (type) {
            case "object" -> s.has("properties") || s.has("required") || s.has("additionalProperties");
            case "array" -> s.has("items") || s.has("minItems") || s.has("maxItems");
            case "string" -> s.has("minLength") || s.has("maxLength") || s.has("pattern") || s.has("format");
            case "number", "integer" -> s.has("minimum") || s.has("maximum") || s.has("exclusiveMinimum")
                    || s.has("exclusiveMaximum");
            default -> false;
        };
    }

    /** A non-negative integer keyword, or {@code absent} when missing. */
    static int count(JsonNode s, String keyword, String at, int absent) {
        JsonNode v = s.get(keyword);
        if (v == null) return absent;
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0) {
            throw new ConstraintException(at + "/" + keyword, "'" + keyword + "' must be a non-negative integer");
        }
        return v.intValue();
    }
}

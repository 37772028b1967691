package ai.arbor.structured;

import static ai.arbor.structured.JsonGrammar.COLON;
import static ai.arbor.structured.JsonGrammar.COMMA;
import static ai.arbor.structured.JsonGrammar.lit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import dk.brics.automaton.BasicOperations;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema into the automaton of the compact JSON texts that satisfy it. Every construct a bounded
 * regular language can express is supported (see the module README for the list); anything else is rejected with a
 * {@link ConstraintException} naming the keyword and where it is, never silently ignored. Properties are written in
 * the schema's order and, as in xgrammar's default and OpenAI's strict mode, objects with {@code properties} admit no
 * other keys.
 */
final class JsonSchemaCompiler {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment",
            "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "contentMediaType",
            "contentEncoding", "strict");
    private static final Set<String> TYPES = Set.of("string", "integer", "number", "boolean", "null", "object", "array");

    private final JsonNode root;
    private final Set<String> refsInProgress = new HashSet<>();

    private JsonSchemaCompiler(JsonNode root) { this.root = root; }

    static Automaton compile(String schemaJson) {
        JsonNode root;
        try {
            root = JSON.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw new ConstraintException("", "the schema is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null) throw new ConstraintException("", "the schema is empty");
        return new JsonSchemaCompiler(root).value(root, "", JsonGrammar.ANY_VALUE_DEPTH);
    }

    /** The texts matching {@code s}; {@code depth} bounds the nesting of parts the schema leaves open. */
    private Automaton value(JsonNode s, String at, int depth) {
        if (s.isBoolean()) {
            if (!s.booleanValue()) throw new ConstraintException(at, "the schema 'false' matches nothing");
            return JsonGrammar.anyValue(depth);
        }
        if (!s.isObject()) throw new ConstraintException(at, "a schema must be an object or a boolean");
        checkKeywords(s, at);
        if (s.has("$ref")) return ref(s, at, depth);
        List<Automaton> restrictions = new ArrayList<>();
        if (s.has("enum")) restrictions.add(literals(s.get("enum"), at + "/enum"));
        if (s.has("const")) restrictions.add(literal(s.get("const")));
        for (String combinator : List.of("anyOf", "oneOf")) {
            if (s.has(combinator)) restrictions.add(union(s.get(combinator), at + "/" + combinator, depth));
        }
        if (s.has("allOf")) {
            JsonNode all = array(s.get("allOf"), at + "/allOf");
            for (int k = 0; k < all.size(); k++) restrictions.add(value(all.get(k), at + "/allOf/" + k, depth));
        }
        Automaton typed = typed(s, at, depth, !restrictions.isEmpty());
        Automaton result = typed;
        for (Automaton r : restrictions) result = result == null ? r : result.intersection(r);
        if (result == null) result = JsonGrammar.anyValue(depth);
        result = JsonGrammar.min(result);
        if (result.isEmpty()) throw new ConstraintException(at, "no JSON value satisfies this schema");
        return result;
    }

    private void checkKeywords(JsonNode s, String at) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (ANNOTATIONS.contains(k) || SchemaKeywords.SUPPORTED.contains(k)) continue;
            throw new ConstraintException(at + "/" + k, SchemaKeywords.SUPPORTED_ELSEWHERE.contains(k)
                    ? "JSON Schema keyword '" + k + "' is not supported in structured outputs"
                    : "unknown JSON Schema keyword '" + k + "'");
        }
    }

    private Automaton ref(JsonNode s, String at, int depth) {
        if (s.size() > 1) {
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!k.equals("$ref") && !ANNOTATIONS.contains(k)) {
                    throw new ConstraintException(at + "/" + k, "keywords beside '$ref' are not supported");
                }
            }
        }
        String ref = s.get("$ref").asText();
        if (!ref.equals("#") && !ref.startsWith("#/")) {
            throw new ConstraintException(at + "/$ref", "only local references (#/...) are supported, got '" + ref + "'");
        }
        JsonNode target = root.at(ref.substring(1));
        if (target.isMissingNode()) throw new ConstraintException(at + "/$ref", "reference '" + ref + "' points nowhere");
        if (!refsInProgress.add(ref)) {
            throw new ConstraintException(at + "/$ref", "recursive reference '" + ref + "' is not supported");
        }
        try {
            return value(target, ref.substring(1), depth);
        } finally {
            refsInProgress.remove(ref);
        }
    }

    /** The texts of the types {@code type} allows, or null when unrestricted by type and by type keywords. */
    private Automaton typed(JsonNode s, String at, int depth, boolean restricted) {
        List<String> types = new ArrayList<>();
        JsonNode type = s.get("type");
        if (type == null) {
            for (String t : List.of("object", "array", "string", "integer", "number")) {
                if (SchemaKeywords.impliesType(s, t)) types.add(t);
            }
            if (types.contains("integer") && !types.contains("number")) types.remove("integer");
            if (types.isEmpty()) return restricted ? null : JsonGrammar.anyValue(depth);
            if (types.contains("number")) types.remove("integer");
        } else if (type.isTextual()) {
            types.add(type.asText());
        } else if (type.isArray()) {
            type.forEach(t -> types.add(t.asText()));
        } else {
            throw new ConstraintException(at + "/type", "'type' must be a string or an array of strings");
        }
        List<Automaton> alts = new ArrayList<>();
        for (String t : types) {
            if (!TYPES.contains(t)) throw new ConstraintException(at + "/type", "unknown type '" + t + "'");
            alts.add(switch (t) {
                case "string" -> SchemaStrings.string(s, at);
                case "integer" -> SchemaNumbers.integer(s, at);
                case "number" -> SchemaNumbers.number(s, at);
                case "boolean" -> JsonGrammar.BOOLEAN;
                case "null" -> JsonGrammar.NULL;
                case "object" -> object(s, at, depth);
                default -> array(s, at, depth);
            });
        }
        return alts.size() == 1 ? alts.get(0) : BasicOperations.union(alts);
    }

    private Automaton object(JsonNode s, String at, int depth) {
        JsonNode props = s.get("properties");
        JsonNode extra = s.get("additionalProperties");
        Set<String> required = new HashSet<>();
        if (s.has("required")) {
            for (JsonNode r : array(s.get("required"), at + "/required")) {
                if (!r.isTextual()) throw new ConstraintException(at + "/required", "'required' must list strings");
                required.add(r.asText());
            }
        }
        if (props == null || props.isEmpty()) {
            if (!required.isEmpty()) {
                throw new ConstraintException(at + "/required", "required properties need 'properties' to define them");
            }
            if (extra != null && extra.isBoolean() && !extra.booleanValue()) return lit("{}");
            if (extra != null && extra.isObject()) {
                return JsonGrammar.objectOf(JsonGrammar.STRING, value(extra, at + "/additionalProperties", depth - 1));
            }
            return JsonGrammar.anyObject(depth);
        }
        if (!props.isObject()) throw new ConstraintException(at + "/properties", "'properties' must be an object");
        if (extra != null && !(extra.isBoolean() && !extra.booleanValue())) {
            throw new ConstraintException(at + "/additionalProperties",
                    "'additionalProperties' beside 'properties' is only supported as false");
        }
        for (String r : required) {
            if (!props.has(r)) throw new ConstraintException(at + "/required", "required property '" + r + "' is not in 'properties'");
        }
        List<Automaton> members = new ArrayList<>();
        List<Boolean> isRequired = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = at + "/properties/" + e.getKey().replace("~", "~0").replace("/", "~1");
            Automaton v = value(e.getValue(), where, depth - 1);
            members.add(literal(JSON.getNodeFactory().textNode(e.getKey())).concatenate(COLON).concatenate(v));
            isRequired.add(required.contains(e.getKey()));
        }
        return lit("{").concatenate(membersInOrder(members, isRequired)).concatenate(lit("}"));
    }

    /**
     * The members in schema order, the optional ones omissible, with commas only between those present: the union,
     * over each member that may come first, of it followed by the rest.
     */
    private static Automaton membersInOrder(List<Automaton> members, List<Boolean> required) {
        int n = members.size();
        Automaton[] rest = new Automaton[n + 1];
        rest[n] = BasicAutomata.makeEmptyString();
        for (int k = n - 1; k >= 0; k--) {
            Automaton next = COMMA.concatenate(members.get(k));
            rest[k] = JsonGrammar.min((required.get(k) ? next : next.optional()).concatenate(rest[k + 1]));
        }
        List<Automaton> starts = new ArrayList<>();
        boolean allOptional = true;
        for (int k = 0; k < n; k++) {
            starts.add(members.get(k).concatenate(rest[k + 1]));
            if (required.get(k)) {
                allOptional = false;
                break;
            }
        }
        if (allOptional) starts.add(BasicAutomata.makeEmptyString());
        return BasicOperations.union(starts);
    }

    private Automaton array(JsonNode s, String at, int depth) {
        int min = SchemaKeywords.count(s, "minItems", at, 0);
        int max = SchemaKeywords.count(s, "maxItems", at, -1);
        if (max >= 0 && max < min) throw new ConstraintException(at + "/maxItems", "'maxItems' is below 'minItems'");
        JsonNode items = s.get("items");
        Automaton item = items == null ? JsonGrammar.anyValue(depth - 1) : value(items, at + "/items", depth - 1);
        return JsonGrammar.arrayOf(item, min, max);
    }

    private Automaton union(JsonNode alts, String at, int depth) {
        JsonNode a = array(alts, at);
        if (a.isEmpty()) throw new ConstraintException(at, "must list at least one schema");
        List<Automaton> all = new ArrayList<>();
        for (int k = 0; k < a.size(); k++) all.add(value(a.get(k), at + "/" + k, depth));
        return BasicOperations.union(all);
    }

    private static Automaton literals(JsonNode values, String at) {
        JsonNode a = array(values, at);
        if (a.isEmpty()) throw new ConstraintException(at, "'enum' must list at least one value");
        List<Automaton> all = new ArrayList<>();
        for (JsonNode v : a) all.add(literal(v));
        return BasicOperations.union(all);
    }

    static Automaton literal(JsonNode v) {
        try {
            return lit(JSON.writeValueAsString(v));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode array(JsonNode n, String at) {
        if (n == null || !n.isArray()) throw new ConstraintException(at, "must be an array");
        return n;
    }
}

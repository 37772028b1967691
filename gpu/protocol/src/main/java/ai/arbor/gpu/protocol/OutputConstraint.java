package ai.arbor.gpu.protocol;

import java.util.Objects;

/**
 * What a request's output must match: the serializable form of {@code response_format} and vLLM's
 * {@code structured_outputs}, carried in the sampling parameters so it crosses the cluster as plain data. The engine
 * compiles it against its own vocabulary.
 *
 * @param kind what {@code text} holds
 * @param text {@link Kind#JSON_SCHEMA}: the schema as JSON; {@link Kind#REGEX}: the pattern (whole output must match);
 *             {@link Kind#CHOICE}: a JSON array of the allowed strings; {@link Kind#JSON_OBJECT}: empty
 */
public record OutputConstraint(Kind kind, String text) {
    public enum Kind { JSON_OBJECT, JSON_SCHEMA, REGEX, CHOICE }

    public OutputConstraint {
        Objects.requireNonNull(kind, "kind");
        text = text == null ? "" : text;
    }

    public static OutputConstraint jsonObject() { return new OutputConstraint(Kind.JSON_OBJECT, ""); }

    public static OutputConstraint jsonSchema(String schemaJson) { return new OutputConstraint(Kind.JSON_SCHEMA, schemaJson); }

    public static OutputConstraint regex(String pattern) { return new OutputConstraint(Kind.REGEX, pattern); }

    /** @param choicesJson a JSON array of strings, e.g. {@code ["yes","no"]} */
    public static OutputConstraint choice(String choicesJson) { return new OutputConstraint(Kind.CHOICE, choicesJson); }

    @Override
    public String toString() {
        // Schemas and patterns can hold request text; a log line names only the kind and size.
        return "OutputConstraint[" + kind + ", " + text.length() + " chars]";
    }
}

package ai.arbor.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Typed, range-checked reads of a request's JSON fields; every failure is a 400 naming the field. */
final class JsonFields {
    private final JsonNode body;

    JsonFields(JsonNode body) { this.body = body; }

    JsonNode raw(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) { return raw(name) != null; }

    String requiredString(String name) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) throw ApiError.badParam(name, "'" + name + "' is a required property");
        if (!n.isTextual()) throw ApiError.badParam(name, "'" + name + "' must be a string");
        return n.textValue();
    }

    Boolean bool(String name) {
        JsonNode n = raw(name);
        if (n == null) return null;
        if (!n.isBoolean()) throw ApiError.badParam(name, "'" + name + "' must be a boolean");
        return n.booleanValue();
    }

    boolean bool(String name, boolean dflt) {
        Boolean b = bool(name);
        return b == null ? dflt : b;
    }

    Integer integer(String name, long min, long max) {
        JsonNode n = raw(name);
        if (n == null) return null;
        if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))) {
            throw ApiError.badParam(name, "'" + name + "' must be an integer");
        }
        long v = n.asLong();
        if (!n.canConvertToLong() || v < min || v > max) {
            throw ApiError.badParam(name, "'" + name + "' must be between " + min + " and " + max + ", got " + n);
        }
        return (int) v;
    }

    Long longValue(String name) {
        JsonNode n = raw(name);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiError.badParam(name, "'" + name + "' must be a 64-bit integer");
        }
        return n.longValue();
    }

    Double number(String name, double min, double max) {
        JsonNode n = raw(name);
        if (n == null) return null;
        if (!n.isNumber()) throw ApiError.badParam(name, "'" + name + "' must be a number");
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) {
            throw ApiError.badParam(name, "'" + name + "' must be between " + min + " and " + max + ", got " + n);
        }
        return v;
    }

    /** {@code stop}: a string or a list of strings. */
    List<String> stringOrList(String name) {
        JsonNode n = raw(name);
        if (n == null) return List.of();
        if (n.isTextual()) return List.of(n.textValue());
        if (!n.isArray()) throw ApiError.badParam(name, "'" + name + "' must be a string or an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) throw ApiError.badParam(name, "'" + name + "' must contain only strings");
            out.add(e.textValue());
        }
        return out;
    }

    int[] intList(String name, int min, int max) {
        JsonNode n = raw(name);
        if (n == null) return new int[0];
        if (!n.isArray()) throw ApiError.badParam(name, "'" + name + "' must be an array of integers");
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToLong() || e.asLong() < min || e.asLong() > max) {
                throw ApiError.badParam(name, "'" + name + "' must contain integers between " + min + " and " + max);
            }
            out[i] = e.intValue();
        }
        return out;
    }
}

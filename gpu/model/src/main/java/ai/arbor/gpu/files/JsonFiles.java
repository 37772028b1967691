package ai.arbor.gpu.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the JSON files of a model directory, turning every failure into a {@link ModelLoadException} naming the file. */
public final class JsonFiles {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonFiles() {}

    /** The parsed file; missing or malformed files are errors. */
    public static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) throw new ModelLoadException(file, null, "file not found");
        try {
            JsonNode node = MAPPER.readTree(file.toFile());
            if (node == null || node.isMissingNode()) throw new ModelLoadException(file, null, "file is empty");
            return node;
        } catch (JsonProcessingException e) {
            throw new ModelLoadException(file, null, "malformed JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, null, "file not found", e);
        } catch (IOException e) {
            throw new ModelLoadException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The parsed file, or null when it does not exist (optional files such as generation_config.json). */
    public static JsonNode readOptional(Path file) {
        return Files.exists(file) ? read(file) : null;
    }

    /** A JSON object's field as typed accessors that name the file and field on error. */
    public record Fields(Path file, JsonNode node) {

        public boolean has(String field) {
            JsonNode v = node.get(field);
            return v != null && !v.isNull();
        }

        public JsonNode get(String field) {
            JsonNode v = node.get(field);
            return v == null || v.isNull() ? null : v;
        }

        public int requireInt(String field) {
            if (!has(field)) throw new ModelLoadException(file, field, "required field is missing");
            return intOf(field, get(field));
        }

        public int optInt(String field, int dflt) {
            return has(field) ? intOf(field, get(field)) : dflt;
        }

        public double optDouble(String field, double dflt) {
            if (!has(field)) return dflt;
            JsonNode v = get(field);
            if (!v.isNumber()) throw new ModelLoadException(file, field, "expected a number, got " + v);
            return v.asDouble();
        }

        public Double optBoxedDouble(String field) {
            return has(field) ? optDouble(field, 0) : null;
        }

        public boolean optBool(String field, boolean dflt) {
            if (!has(field)) return dflt;
            JsonNode v = get(field);
            if (!v.isBoolean()) throw new ModelLoadException(file, field, "expected true or false, got " + v);
            return v.asBoolean();
        }

        public String optString(String field, String dflt) {
            if (!has(field)) return dflt;
            JsonNode v = get(field);
            if (!v.isTextual()) throw new ModelLoadException(file, field, "expected a string, got " + v);
            return v.asText();
        }

        public Fields object(String field) {
            JsonNode v = get(field);
            if (v == null) return null;
            if (!v.isObject()) throw new ModelLoadException(file, field, "expected an object, got " + v);
            return new Fields(file, v);
        }

        private int intOf(String field, JsonNode v) {
            if (!v.canConvertToInt() || !(v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))))
                throw new ModelLoadException(file, field, "expected an integer, got " + v);
            return v.asInt();
        }
    }
}

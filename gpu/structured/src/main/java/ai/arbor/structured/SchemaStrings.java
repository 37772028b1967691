package ai.arbor.structured;

import static ai.arbor.structured.JsonGrammar.lit;

import com.fasterxml.jackson.databind.JsonNode;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import java.util.Map;

/** JSON Schema strings: lengths, {@code pattern} and the common {@code format}s, as quoted-string automata. */
final class SchemaStrings {
    // Days per month; 29 February is left out, since leap years are not worth a bigger automaton.
    private static final String DATE = "[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
            + "|02-(0[1-9]|1[0-9]|2[0-8]))";
    private static final String TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])";
    private static final Map<String, String> FORMATS = Map.of(
            "date", DATE,
            "time", TIME,
            "date-time", DATE + "T" + TIME,
            "uuid", "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            "ipv4", "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])",
            "email", "[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9-]{1,63}(\\.[a-zA-Z0-9-]{1,63}){0,4}\\.[a-zA-Z]{2,24}");

    private SchemaStrings() {}

    static Automaton string(JsonNode s, String at) {
        int min = SchemaKeywords.count(s, "minLength", at, 0);
        int max = SchemaKeywords.count(s, "maxLength", at, -1);
        if (max >= 0 && max < min) throw new ConstraintException(at + "/maxLength", "'maxLength' is below 'minLength'");
        Automaton content = null;
        if (s.has("format")) {
            String format = s.get("format").asText();
            String regex = FORMATS.get(format);
            if (regex == null) {
                throw new ConstraintException(at + "/format", "string format '" + format + "' is not supported (supported: "
                        + String.join(", ", new java.util.TreeSet<>(FORMATS.keySet())) + ")");
            }
            content = RegexParser.fullMatch(regex, at + "/format");
        }
        if (s.has("pattern")) {
            if (!s.get("pattern").isTextual()) throw new ConstraintException(at + "/pattern", "'pattern' must be a string");
            // A pattern constrains the characters; those JSON must escape are left out rather than escaped.
            Automaton pattern = RegexParser.search(s.get("pattern").asText(), at + "/pattern")
                    .intersection(JsonGrammar.PLAIN_CHAR.repeat());
            content = content == null ? pattern : content.intersection(pattern);
        }
        if (content == null) return JsonGrammar.string(min, max);
        if (min > 0 || max >= 0) {
            Automaton any = BasicAutomata.makeAnyChar();
            content = content.intersection(max < 0 ? any.repeat(min) : any.repeat(min, max));
        }
        Automaton quoted = lit("\"").concatenate(content).concatenate(lit("\""));
        if (quoted.isEmpty()) throw new ConstraintException(at, "no string satisfies this schema's pattern, format and lengths");
        return quoted;
    }
}

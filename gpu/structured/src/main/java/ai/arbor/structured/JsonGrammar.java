package ai.arbor.structured;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import dk.brics.automaton.BasicOperations;
import java.util.ArrayList;
import java.util.List;

/**
 * The lexical pieces of JSON as automata, and a generic JSON value of bounded nesting. Output is compact JSON with one
 * optional space after {@code :} and {@code ,}: free whitespace would let a model pad forever without ever closing
 * the document.
 */
final class JsonGrammar {
    /** How deep a value of unknown shape ({@code json_object}, an array without {@code items}) may nest. */
    static final int ANY_VALUE_DEPTH = 4;

    static final Automaton SPACE = BasicAutomata.makeChar(' ').optional();
    static final Automaton COMMA = lit(",").concatenate(SPACE);
    static final Automaton COLON = lit(":").concatenate(SPACE);
    static final Automaton STRING_CHAR = stringChar();
    static final Automaton PLAIN_CHAR = plainChar();
    static final Automaton STRING = lit("\"").concatenate(STRING_CHAR.repeat()).concatenate(lit("\""));
    /**
     * Digits are bounded (a long's 19, a double's 17 after the point, 3 in an exponent): past them a number carries no
     * more information, and a weak model would otherwise write digits until it runs out of tokens.
     */
    static final int MAX_INTEGER_DIGITS = 19;
    static final int MAX_FRACTION_DIGITS = 17;
    static final Automaton FRACTION = lit(".").concatenate(BasicAutomata.makeCharRange('0', '9').repeat(1, MAX_FRACTION_DIGITS));
    static final Automaton INTEGER = lit("-").optional().concatenate(natural());
    static final Automaton NUMBER = INTEGER.concatenate(FRACTION.optional())
            .concatenate(BasicAutomata.makeCharSet("eE").concatenate(BasicAutomata.makeCharSet("+-").optional())
                    .concatenate(BasicAutomata.makeCharRange('0', '9').repeat(1, 3)).optional());
    static final Automaton BOOLEAN = BasicOperations.union(List.of(lit("true"), lit("false")));
    static final Automaton NULL = lit("null");

    private static final Automaton SCALAR = min(BasicOperations.union(List.of(STRING, NUMBER, BOOLEAN, NULL)));
    /** Built on first use: the deeper generic values take a while to minimize, and most schemas never need them. */
    private static final Automaton[] ANY_VALUE = new Automaton[ANY_VALUE_DEPTH + 1];
    private static final Automaton[] ANY_OBJECT = new Automaton[ANY_VALUE_DEPTH + 1];

    private JsonGrammar() {}

    static Automaton lit(String s) { return BasicAutomata.makeString(s); }

    /** Any JSON value nesting at most {@code depth} levels of objects and arrays. */
    static Automaton anyValue(int depth) {
        int d = Math.max(0, Math.min(depth, ANY_VALUE_DEPTH));
        if (d == 0) return SCALAR;
        synchronized (ANY_VALUE) {
            if (ANY_VALUE[d] == null) {
                Automaton inner = anyValue(d - 1);
                ANY_VALUE[d] = min(BasicOperations.union(List.of(SCALAR, anyObject(d), arrayOf(inner, 0, -1))));
            }
            return ANY_VALUE[d];
        }
    }

    /** Any JSON object whose values nest at most {@code depth - 1} further levels. */
    static Automaton anyObject(int depth) {
        int d = Math.max(1, Math.min(depth, ANY_VALUE_DEPTH));
        synchronized (ANY_VALUE) {
            if (ANY_OBJECT[d] == null) ANY_OBJECT[d] = min(objectOf(STRING, anyValue(d - 1)));
            return ANY_OBJECT[d];
        }
    }

    /** {@code {}} or {@code {k: v, ...}} with any keys from {@code key} (a quoted-string automaton). */
    static Automaton objectOf(Automaton key, Automaton value) {
        Automaton member = key.concatenate(COLON).concatenate(value);
        Automaton members = member.concatenate(COMMA.concatenate(member).repeat()).optional();
        return lit("{").concatenate(members).concatenate(lit("}"));
    }

    /** An array of {@code min..max} items ({@code max < 0}: unbounded). */
    static Automaton arrayOf(Automaton item, int min, int max) {
        if (max == 0) return lit("[]");
        Automaton more = max < 0 ? COMMA.concatenate(item).repeat(Math.max(min - 1, 0))
                : COMMA.concatenate(item).repeat(Math.max(min - 1, 0), max - 1);
        Automaton items = item.concatenate(more);
        if (min == 0) items = items.optional();
        return lit("[").concatenate(items).concatenate(lit("]"));
    }

    /** A quoted JSON string whose raw (escaped) content has {@code min..max} characters. */
    static Automaton string(int min, int max) {
        Automaton body = max < 0 ? STRING_CHAR.repeat(min) : STRING_CHAR.repeat(min, max);
        return lit("\"").concatenate(body).concatenate(lit("\""));
    }

    static Automaton min(Automaton a) {
        a.minimize();
        return a;
    }

    private static Automaton natural() {
        return BasicOperations.union(List.of(lit("0"),
                BasicAutomata.makeCharRange('1', '9').concatenate(BasicAutomata.makeCharRange('0', '9')
                        .repeat(0, MAX_INTEGER_DIGITS - 1))));
    }

    /** A character JSON allows unescaped in a string. */
    private static Automaton plainChar() {
        return BasicAutomata.makeAnyChar().minus(BasicOperations.union(List.of(
                BasicAutomata.makeCharRange('\0', '\u001F'), lit("\""), lit("\\"))));
    }

    /** One character of a JSON string's raw content: an unescaped character or an escape sequence. */
    private static Automaton stringChar() {
        Automaton hex = BasicOperations.union(List.of(BasicAutomata.makeCharRange('0', '9'),
                BasicAutomata.makeCharRange('a', 'f'), BasicAutomata.makeCharRange('A', 'F')));
        List<Automaton> escapes = new ArrayList<>();
        escapes.add(lit("\\").concatenate(BasicAutomata.makeCharSet("\"\\/bfnrt")));
        // Lone surrogate escapes are not valid JSON text for strict parsers; pairs are rare enough to give up.
        Automaton surrogate = BasicAutomata.makeCharSet("dD").concatenate(BasicAutomata.makeCharSet("89abcdefABCDEF"))
                .concatenate(hex.repeat(2, 2));
        escapes.add(lit("\\u").concatenate(hex.repeat(4, 4).minus(surrogate)));
        escapes.add(plainChar());
        return min(BasicOperations.union(escapes));
    }
}

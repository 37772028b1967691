package ai.arbor.structured;

import static ai.arbor.structured.JsonGrammar.lit;

import com.fasterxml.jackson.databind.JsonNode;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import dk.brics.automaton.BasicOperations;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON Schema integers and numbers with {@code minimum}/{@code maximum} as automata over their decimal text: a value
 * is split by sign into a range of magnitudes, and a magnitude range into integer parts (dk.brics' decimal intervals)
 * with or without a fraction. Number bounds must be integers, and exponents are left out once a number is bounded.
 */
final class SchemaNumbers {
    private static final Automaton NATURAL = BasicOperations.union(List.of(lit("0"),
            BasicAutomata.makeCharRange('1', '9').concatenate(BasicAutomata.makeCharRange('0', '9')
                    .repeat(0, JsonGrammar.MAX_INTEGER_DIGITS - 1))));
    private static final Automaton FRACTION = JsonGrammar.FRACTION.optional();
    private static final Automaton ZERO_FRACTION = lit(".").concatenate(lit("0").repeat(1, JsonGrammar.MAX_FRACTION_DIGITS)).optional();

    private SchemaNumbers() {}

    static Automaton integer(JsonNode s, String at) {
        Long lo = bound(s, at, true, true);
        Long hi = bound(s, at, false, true);
        if (lo == null && hi == null) return JsonGrammar.INTEGER;
        return signed(lo, hi, at, false);
    }

    static Automaton number(JsonNode s, String at) {
        Long lo = bound(s, at, true, false);
        Long hi = bound(s, at, false, false);
        if (lo == null && hi == null) return JsonGrammar.NUMBER;
        return signed(lo, hi, at, true);
    }

    private static Automaton signed(Long lo, Long hi, String at, boolean fractions) {
        if (lo != null && hi != null && lo > hi) throw new ConstraintException(at, "'minimum' is above 'maximum'");
        List<Automaton> parts = new ArrayList<>();
        if (hi == null || hi >= 0) parts.add(magnitudes(lo == null ? 0 : Math.max(lo, 0), hi, fractions));
        if (lo == null || lo < 0) {
            long from = hi == null || hi >= 0 ? (fractions ? 0 : 1) : -hi;
            parts.add(lit("-").concatenate(magnitudes(from, lo == null ? null : -lo, fractions)));
        }
        return BasicOperations.union(parts);
    }

    /** Decimal texts of magnitudes in [from, to] ({@code to} null: unbounded). */
    private static Automaton magnitudes(long from, Long to, boolean fractions) {
        if (!fractions) return integers(from, to);
        if (to == null) return integers(from, null).concatenate(FRACTION);
        List<Automaton> parts = new ArrayList<>();
        if (from <= to - 1) parts.add(integers(from, to - 1).concatenate(FRACTION));
        parts.add(integers(to, to).concatenate(ZERO_FRACTION));
        return BasicOperations.union(parts);
    }

    private static Automaton integers(long from, Long to) {
        if (from > Integer.MAX_VALUE || (to != null && to > Integer.MAX_VALUE)) {
            throw new ConstraintException("", "numeric bounds beyond " + Integer.MAX_VALUE + " are not supported");
        }
        Automaton digits = to == null ? BasicAutomata.makeMinInteger(Long.toString(from))
                : BasicAutomata.makeInterval((int) from, to.intValue(), 0);
        return digits.intersection(NATURAL);
    }

    /** The inclusive integer bound from minimum/exclusiveMinimum (or the maximum side), or null. */
    private static Long bound(JsonNode s, String at, boolean lower, boolean integer) {
        String inclusive = lower ? "minimum" : "maximum";
        String exclusive = lower ? "exclusiveMinimum" : "exclusiveMaximum";
        Long result = null;
        JsonNode inc = s.get(inclusive);
        if (inc != null) result = integral(inc, at + "/" + inclusive, lower, false, integer);
        JsonNode exc = s.get(exclusive);
        if (exc != null && exc.isBoolean()) {  // draft 4: a flag on minimum/maximum
            if (exc.booleanValue() && result != null) {
                if (!integer) throw new ConstraintException(at + "/" + exclusive, "exclusive bounds on numbers are not supported");
                result += lower ? 1 : -1;
            }
        } else if (exc != null) {
            if (!integer) throw new ConstraintException(at + "/" + exclusive, "exclusive bounds on numbers are not supported");
            long e = integral(exc, at + "/" + exclusive, lower, true, true);
            result = result == null ? e : lower ? Math.max(result, e) : Math.min(result, e);
        }
        return result;
    }

    private static long integral(JsonNode v, String at, boolean lower, boolean exclusive, boolean integer) {
        if (!v.isNumber()) throw new ConstraintException(at, "must be a number");
        BigDecimal d = v.decimalValue();
        boolean whole = d.stripTrailingZeros().scale() <= 0;
        if (!integer && !whole) throw new ConstraintException(at, "fractional bounds on numbers are not supported");
        BigDecimal r = d.setScale(0, lower ? RoundingMode.CEILING : RoundingMode.FLOOR);
        if (exclusive && whole) r = lower ? r.add(BigDecimal.ONE) : r.subtract(BigDecimal.ONE);
        if (r.abs().compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
            throw new ConstraintException(at, "numeric bounds beyond " + Integer.MAX_VALUE + " are not supported");
        }
        return r.longValue();
    }
}

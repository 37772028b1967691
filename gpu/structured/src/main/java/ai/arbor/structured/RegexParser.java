package ai.arbor.structured;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import dk.brics.automaton.BasicOperations;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the regex dialect clients send (Python {@code re} / ECMAScript, as in vLLM's {@code regex} and JSON Schema's
 * {@code pattern}) into a dk.brics automaton. brics' own syntax differs ({@code \d} means 'd', {@code "}, {@code @},
 * {@code <}, {@code #} and {@code ~} are operators), so the pattern is parsed here and built from brics' primitives.
 * Regular features only: lookarounds, backreferences, word boundaries and Unicode properties are rejected by name.
 */
final class RegexParser {
    private static final Automaton DIGIT = BasicAutomata.makeCharRange('0', '9');
    private static final Automaton WORD = BasicOperations.union(List.of(BasicAutomata.makeCharRange('a', 'z'),
            BasicAutomata.makeCharRange('A', 'Z'), DIGIT, BasicAutomata.makeChar('_')));
    private static final Automaton SPACE = BasicAutomata.makeCharSet(" \t\n\r\f\u000B");
    private static final Automaton ANY_BUT_NEWLINE = BasicAutomata.makeAnyChar().minus(BasicAutomata.makeChar('\n'));

    private final String p;
    private final String where;
    private int i;

    private RegexParser(String pattern, String where) {
        this.p = pattern;
        this.where = where;
    }

    /** The strings the whole pattern matches (anchors at its ends are implied). */
    static Automaton fullMatch(String pattern, String where) {
        RegexParser r = new RegexParser(pattern, where);
        if (pattern.startsWith("^")) r.i = 1;
        Automaton a = r.alternation();
        if (r.i < pattern.length()) throw r.error("unbalanced ')'");
        return a;
    }

    /**
     * The strings that contain a match, as JSON Schema's {@code pattern} means: unanchored ends match anything.
     */
    static Automaton search(String pattern, String where) {
        Automaton a = fullMatch(pattern, where);
        boolean anchoredEnd = pattern.endsWith("$") && !pattern.endsWith("\\$");
        if (!pattern.startsWith("^")) a = BasicAutomata.makeAnyString().concatenate(a);
        if (!anchoredEnd) a = a.concatenate(BasicAutomata.makeAnyString());
        return a;
    }

    private Automaton alternation() {
        List<Automaton> alts = new ArrayList<>();
        alts.add(sequence());
        while (i < p.length() && p.charAt(i) == '|') {
            i++;
            alts.add(sequence());
        }
        return alts.size() == 1 ? alts.get(0) : BasicOperations.union(alts);
    }

    private Automaton sequence() {
        List<Automaton> parts = new ArrayList<>();
        while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') {
            Automaton atom = atom();
            if (atom != null) parts.add(quantified(atom));
        }
        return parts.isEmpty() ? BasicAutomata.makeEmptyString() : BasicOperations.concatenate(parts);
    }

    private Automaton quantified(Automaton a) {
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == '*') a = a.repeat();
            else if (c == '+') a = a.repeat(1);
            else if (c == '?') a = a.optional();
            else if (c == '{' && isBound()) {
                a = bound(a);
                continue;
            } else break;
            i++;
            skipLazyOrPossessive();
        }
        return a;
    }

    private void skipLazyOrPossessive() {
        if (i < p.length() && p.charAt(i) == '?') i++;  // lazy matches the same strings
        else if (i < p.length() && p.charAt(i) == '+') throw error("possessive quantifiers are not supported");
    }

    private boolean isBound() {
        int j = i + 1;
        while (j < p.length() && (Character.isDigit(p.charAt(j)) || p.charAt(j) == ',')) j++;
        return j < p.length() && p.charAt(j) == '}' && j > i + 1 && Character.isDigit(p.charAt(i + 1));
    }

    private Automaton bound(Automaton a) {
        int close = p.indexOf('}', i);
        String body = p.substring(i + 1, close);
        i = close + 1;
        skipLazyOrPossessive();
        int comma = body.indexOf(',');
        try {
            if (comma < 0) {
                int n = Integer.parseInt(body);
                return a.repeat(n, n);
            }
            int lo = Integer.parseInt(body.substring(0, comma));
            String hi = body.substring(comma + 1);
            if (hi.isEmpty()) return a.repeat(lo);
            int max = Integer.parseInt(hi);
            if (max < lo) throw error("bad repetition {" + body + "}");
            return a.repeat(lo, max);
        } catch (NumberFormatException e) {
            throw error("bad repetition {" + body + "}");
        }
    }

    private Automaton atom() {
        char c = p.charAt(i++);
        switch (c) {
            case '(': return group();
            case '[': return charClass();
            case '.': return ANY_BUT_NEWLINE;
            case '\\': return escape(false);
            case '^':
            case '$':
                return null;  // anchors: the whole output is matched anyway
            case '*':
            case '+':
            case '?':
                throw error("nothing to repeat before '" + c + "'");
            default:
                return BasicAutomata.makeChar(c);
        }
    }

    private Automaton group() {
        if (p.startsWith("?:", i)) i += 2;
        else if (p.startsWith("?P<", i) || (p.startsWith("?<", i) && !p.startsWith("?<=", i) && !p.startsWith("?<!", i))) {
            int close = p.indexOf('>', i);
            if (close < 0) throw error("unterminated group name");
            i = close + 1;
        } else if (i < p.length() && p.charAt(i) == '?') {
            String what = p.startsWith("?=", i) || p.startsWith("?!", i) || p.startsWith("?<", i) ? "lookarounds"
                    : "inline flags and other (?...) groups";
            throw error(what + " are not supported");
        }
        Automaton a = alternation();
        if (i >= p.length() || p.charAt(i) != ')') throw error("missing ')'");
        i++;
        return a;
    }

    private Automaton charClass() {
        boolean negate = i < p.length() && p.charAt(i) == '^';
        if (negate) i++;
        List<Automaton> members = new ArrayList<>();
        boolean firstMember = true;
        while (true) {
            if (i >= p.length()) throw error("missing ']'");
            char c = p.charAt(i);
            if (c == ']' && !firstMember) {
                i++;
                break;
            }
            firstMember = false;
            i++;
            Automaton single;
            int from;
            if (c == '\\') {
                Automaton e = escape(true);
                if (!isSingleChar(e)) {
                    members.add(e);
                    continue;
                }
                from = singleChar(e);
            } else {
                from = c;
            }
            if (i + 1 < p.length() && p.charAt(i) == '-' && p.charAt(i + 1) != ']') {
                i++;
                char t = p.charAt(i++);
                int to = t;
                if (t == '\\') {
                    Automaton e = escape(true);
                    if (!isSingleChar(e)) throw error("bad character range");
                    to = singleChar(e);
                }
                if (to < from) throw error("bad character range " + (char) from + "-" + (char) to);
                single = BasicAutomata.makeCharRange((char) from, (char) to);
            } else {
                single = BasicAutomata.makeChar((char) from);
            }
            members.add(single);
        }
        Automaton set = members.isEmpty() ? BasicAutomata.makeEmpty() : BasicOperations.union(members);
        return negate ? BasicAutomata.makeAnyChar().minus(set) : set;
    }

    private static boolean isSingleChar(Automaton a) { return a.getSingleton() != null && a.getSingleton().length() == 1; }

    private static int singleChar(Automaton a) { return a.getSingleton().charAt(0); }

    private Automaton escape(boolean inClass) {
        if (i >= p.length()) throw error("pattern ends with '\\'");
        char c = p.charAt(i++);
        switch (c) {
            case 'd': return DIGIT;
            case 'D': return BasicAutomata.makeAnyChar().minus(DIGIT);
            case 'w': return WORD;
            case 'W': return BasicAutomata.makeAnyChar().minus(WORD);
            case 's': return SPACE;
            case 'S': return BasicAutomata.makeAnyChar().minus(SPACE);
            case 'n': return BasicAutomata.makeChar('\n');
            case 't': return BasicAutomata.makeChar('\t');
            case 'r': return BasicAutomata.makeChar('\r');
            case 'f': return BasicAutomata.makeChar('\f');
            case 'v': return BasicAutomata.makeChar('\u000B');
            case '0': return BasicAutomata.makeChar('\0');
            case 'x': return BasicAutomata.makeChar((char) hex(2));
            case 'u': return BasicAutomata.makeChar((char) hex(4));
            case 'b':
                if (inClass) return BasicAutomata.makeChar('\b');
                throw error("word boundaries (\\b) are not supported");
            case 'B': throw error("word boundaries (\\B) are not supported");
            case 'p':
            case 'P':
                throw error("Unicode property classes (\\" + c + ") are not supported");
            case 'A':
            case 'Z':
            case 'z':
                if (!inClass) return null;
                return BasicAutomata.makeChar(c);
            default:
                if (Character.isDigit(c)) throw error("backreferences are not supported");
                if (Character.isLetter(c)) throw error("unknown escape \\" + c);
                return BasicAutomata.makeChar(c);
        }
    }

    private int hex(int digits) {
        if (i + digits > p.length()) throw error("truncated hex escape");
        try {
            int v = Integer.parseInt(p.substring(i, i + digits), 16);
            i += digits;
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    private ConstraintException error(String message) {
        return new ConstraintException(where, "invalid regex '" + p + "' at offset " + i + ": " + message);
    }
}

package ai.arbor.gpu.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prepares a jinja2 chat template for Jinjava by rewriting what Jinjava would read differently:
 * <ul>
 *   <li>jinja2's {@code trim_blocks} and {@code lstrip_blocks}, which transformers turns on, are applied here to the
 *   source text: Jinjava's own lstrip also eats spaces before a tag in the middle of a line
 *   ({@code {% endif %} {% if %}} loses its space), which jinja2 keeps.</li>
 *   <li>Jinjava binds {@code not} tighter than tests, filters and comparisons ({@code not x is defined} becomes
 *   {@code (not x) is defined}, always true; {@code not calls|length == 1} compares a boolean), whereas in jinja2
 *   {@code not} binds loosest but for {@code and}/{@code or}; Llama 3.1's template relies on both. Every such
 *   {@code not} gets its operand parenthesised.</li>
 *   <li>A keyword argument whose value uses a filter ({@code namespace(n=messages|length - 1)}) loses the filter
 *   in Jinjava; the value gets parenthesised.</li>
 *   <li>Python's reversed slice {@code x[::-1]}, which Jinjava cannot parse, becomes {@code (x|reverse|list)}.</li>
 * </ul>
 */
final class TemplateSource {
    private static final Pattern REVERSED = Pattern.compile(
            "([A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[[^\\[\\]:]*])*)\\[\\s*:\\s*:\\s*-1\\s*]");
    private static final Pattern RAW = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern ENDRAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");

    private TemplateSource() {}

    static String rewrite(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0, n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c != '{' || i + 1 >= n || "%#{".indexOf(src.charAt(i + 1)) < 0) {
                out.append(c);
                i++;
                continue;
            }
            char kind = src.charAt(i + 1);
            int end = kind == '#' ? src.indexOf("#}", i + 2) : tagEnd(src, i + 2, kind == '%' ? '%' : '}');
            if (end < 0) { // unterminated: let Jinjava report it
                out.append(src, i, n);
                break;
            }
            String tag = src.substring(i, end + 2);
            int start = i;
            i = end + 2;
            if (kind == '{') {
                out.append(rewriteExpression(tag));
                continue;
            }
            char open = tag.length() > 2 ? tag.charAt(2) : ' ';
            char close = tag.length() > 4 ? tag.charAt(tag.length() - 3) : ' ';
            if (open == '+') tag = tag.substring(0, 2) + tag.substring(3);
            else if (open != '-') lstrip(src, start, out);
            if (close == '+') tag = tag.substring(0, tag.length() - 3) + tag.substring(tag.length() - 2);
            else if (close != '-') { // trim_blocks: the first newline after a block or comment goes
                if (i < n && src.charAt(i) == '\n') i++;
                else if (i + 1 < n && src.charAt(i) == '\r' && src.charAt(i + 1) == '\n') i += 2;
            }
            if (kind == '#') {
                out.append(tag);
                continue;
            }
            out.append(rewriteExpression(tag));
            if (RAW.matcher(tag).matches()) { // copy the raw body untouched
                Matcher m = ENDRAW.matcher(src);
                int stop = m.find(i) ? m.start() : n;
                out.append(src, i, stop);
                i = stop;
            }
        }
        return out.toString();
    }

    /**
     * lstrip_blocks: drop the spaces and tabs between the start of the source line and a block tag (judged on the
     * source: a newline that trim_blocks removed still starts a line).
     */
    private static void lstrip(String src, int tagStart, StringBuilder out) {
        int j = tagStart;
        while (j > 0 && (src.charAt(j - 1) == ' ' || src.charAt(j - 1) == '\t')) j--;
        if (j == 0 || src.charAt(j - 1) == '\n') out.setLength(out.length() - (tagStart - j));
    }

    /** Index of the closing {@code %}} or {@code }}} of a tag, skipping string literals. */
    private static int tagEnd(String src, int from, char closer) {
        char quote = 0;
        for (int k = from; k + 1 < src.length(); k++) {
            char c = src.charAt(k);
            if (quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == closer && src.charAt(k + 1) == '}') {
                return k;
            }
        }
        return -1;
    }

    private static String rewriteExpression(String tag) {
        return replace(REVERSED, wrapKwargs(wrapNot(tag)), m -> "(" + m.group(1) + "|reverse|list)");
    }

    /** {@code f(k=a|length - 1)} becomes {@code f(k=(a|length - 1))}. */
    static String wrapKwargs(String tag) {
        StringBuilder s = new StringBuilder(tag);
        int depth = 0;
        char quote = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '\'' || c == '"') quote = c;
            else if (c == '(' || c == '[') depth++;
            else if (c == ')' || c == ']') depth--;
            else if (depth > 0 && c == '=' && k + 1 < s.length() && s.charAt(k + 1) != '='
                    && k > 0 && "=!<>".indexOf(s.charAt(k - 1)) < 0 && isWordChar(s.charAt(k - 1))) {
                int end = argumentEnd(s, k + 1);
                String value = s.substring(k + 1, end);
                if (value.indexOf('|') >= 0 && !value.contains("||")) {
                    s.insert(end, ')');
                    s.insert(k + 1, '(');
                }
            }
        }
        return s.toString();
    }

    /** The end of a call argument: the next top-level comma or the closing parenthesis. */
    private static int argumentEnd(CharSequence s, int from) {
        int depth = 0;
        char quote = 0;
        for (int k = from; k < s.length(); k++) {
            char c = s.charAt(k);
            if (quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '\'' || c == '"') quote = c;
            else if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) return k;
                depth--;
            } else if (c == ',' && depth == 0) return k;
        }
        return s.length();
    }

    /** {@code not A == B and C} becomes {@code not (A == B) and C}; {@code is not} and {@code not in} stay. */
    static String wrapNot(String tag) {
        StringBuilder s = new StringBuilder(tag);
        int from = 0;
        while (true) {
            int at = findWord(s, "not", from);
            if (at < 0) return s.toString();
            from = at + 3;
            if (previousWord(s, at).equals("is") || nextWord(s, at + 3).equals("in")) continue;
            int start = at + 3;
            int end = operandEnd(s, start);
            if (s.substring(start, end).isBlank()) continue;
            s.insert(end, ')');
            s.insert(start, " (");
        }
    }

    /** Where a {@code not}'s operand ends: the next top-level and/or/if/else, closing bracket, comma or tag end. */
    private static int operandEnd(CharSequence s, int from) {
        int depth = 0;
        char quote = 0;
        int n = s.length();
        for (int k = from; k < n; k++) {
            char c = s.charAt(k);
            if (quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '\'' || c == '"') quote = c;
            else if (c == '(' || c == '[' || c == '{') {
                if (depth == 0 && c == '{' && k + 1 < n && s.charAt(k + 1) == '}') return k; // never, but safe
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) return trimEnd(s, from, k);
                depth--;
            } else if (depth == 0 && (c == ',' || ((c == '%' || c == '-' || c == '+') && k + 1 < n
                    && (s.charAt(k + 1) == '}' || (s.charAt(k + 1) == '%' && k + 2 < n && s.charAt(k + 2) == '}'))))) {
                return trimEnd(s, from, k);
            } else if (depth == 0 && Character.isLetter(c) && (k == 0 || !isWordChar(s.charAt(k - 1)))) {
                String w = wordAt(s, k);
                if (w.equals("and") || w.equals("or") || w.equals("if") || w.equals("else")) return trimEnd(s, from, k);
                k += w.length() - 1;
            }
        }
        return trimEnd(s, from, n);
    }

    private static int trimEnd(CharSequence s, int from, int end) {
        while (end > from && Character.isWhitespace(s.charAt(end - 1))) end--;
        return end;
    }

    private static int findWord(CharSequence s, String word, int from) {
        char quote = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '\'' || c == '"') quote = c;
            else if (k >= from && (k == 0 || !isWordChar(s.charAt(k - 1))) && wordAt(s, k).equals(word)) return k;
        }
        return -1;
    }

    private static String wordAt(CharSequence s, int k) {
        int e = k;
        while (e < s.length() && isWordChar(s.charAt(e))) e++;
        return s.subSequence(k, e).toString();
    }

    private static String previousWord(CharSequence s, int at) {
        int e = at;
        while (e > 0 && Character.isWhitespace(s.charAt(e - 1))) e--;
        int b = e;
        while (b > 0 && isWordChar(s.charAt(b - 1))) b--;
        return s.subSequence(b, e).toString();
    }

    private static String nextWord(CharSequence s, int from) {
        int b = from;
        while (b < s.length() && Character.isWhitespace(s.charAt(b))) b++;
        return wordAt(s, b);
    }

    private static boolean isWordChar(char c) { return Character.isLetterOrDigit(c) || c == '_'; }

    private static String replace(Pattern p, String s, java.util.function.Function<Matcher, String> f) {
        Matcher m = p.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(f.apply(m)));
        m.appendTail(sb);
        return sb.toString();
    }
}

package ai.arbor.gpu.tokenizer;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Python's {@code str} methods for templates ({@code content.split('</think>')[-1].lstrip('\n')},
 * {@code s.startswith('<tool_response>')}), which Jinjava would otherwise look up as Java methods of
 * {@link String} and not find. Only method calls on strings are handled; everything else falls through to
 * Jinjava's own resolvers.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof CharSequence cs) || method == null) return null;
        String s = cs.toString();
        Object[] p = params == null ? new Object[0] : params;
        Object result;
        switch (method.toString()) {
            case "startswith" -> result = anyAffix(s, p, true);
            case "endswith" -> result = anyAffix(s, p, false);
            case "strip" -> result = strip(s, chars(p), true, true);
            case "lstrip" -> result = strip(s, chars(p), true, false);
            case "rstrip" -> result = strip(s, chars(p), false, true);
            case "split" -> result = split(s, p);
            case "upper" -> result = s.toUpperCase(Locale.ROOT);
            case "lower" -> result = s.toLowerCase(Locale.ROOT);
            case "title" -> result = title(s);
            case "capitalize" -> result = s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> result = p.length >= 2 ? replace(s, str(p[0]), str(p[1]), p.length > 2 ? toInt(p[2]) : -1) : null;
            case "find" -> result = p.length >= 1 ? s.indexOf(str(p[0])) : null;
            case "count" -> result = p.length >= 1 ? count(s, str(p[0])) : null;
            case "join" -> result = p.length == 1 ? join(s, p[0]) : null;
            case "isdigit" -> result = !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isspace" -> result = !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            default -> result = null;
        }
        if (result == null) return null;
        context.setPropertyResolved(true);
        return result;
    }

    /** Python's startswith/endswith take a string or a tuple (list) of candidates. */
    private static Boolean anyAffix(String s, Object[] p, boolean prefix) {
        if (p.length < 1) return null;
        if (p[0] instanceof Collection<?> c) {
            for (Object o : c) if (prefix ? s.startsWith(str(o)) : s.endsWith(str(o))) return true;
            return false;
        }
        return prefix ? s.startsWith(str(p[0])) : s.endsWith(str(p[0]));
    }

    private static String chars(Object[] p) { return p.length == 0 || p[0] == null ? null : str(p[0]); }

    /** With no chars, Python strips Unicode whitespace; otherwise any of the given characters. */
    private static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && stripped(s.charAt(b), chars)) b++;
        if (right) while (e > b && stripped(s.charAt(e - 1), chars)) e--;
        return s.substring(b, e);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    /** Python split: a literal separator keeping empty pieces, or runs of whitespace when none is given. */
    private static List<String> split(String s, Object[] p) {
        String sep = p.length > 0 && p[0] != null ? str(p[0]) : null;
        int max = p.length > 1 ? toInt(p[1]) : -1;
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0, n = s.length();
            while (true) {
                while (i < n && Character.isWhitespace(s.charAt(i))) i++;
                if (i >= n) break;
                if (max >= 0 && out.size() == max) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !Character.isWhitespace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (max < 0 || out.size() < max) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (char c : s.toCharArray()) {
            sb.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String replace(String s, String from, String to, int count) {
        if (count < 0) return s.replace(from, to);
        StringBuilder sb = new StringBuilder();
        int i = 0, done = 0;
        while (done < count) {
            int at = s.indexOf(from, i);
            if (at < 0) break;
            sb.append(s, i, at).append(to);
            i = at + from.length();
            done++;
        }
        return sb.append(s.substring(i)).toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
        return n;
    }

    private static String join(String sep, Object items) {
        StringBuilder sb = new StringBuilder();
        Iterator<?> it = items instanceof Iterable<?> i ? i.iterator() : List.of(items).iterator();
        while (it.hasNext()) {
            sb.append(str(it.next()));
            if (it.hasNext()) sb.append(sep);
        }
        return sb.toString();
    }

    private static String str(Object o) { return String.valueOf(o); }

    private static int toInt(Object o) { return o instanceof Number n ? n.intValue() : Integer.parseInt(str(o)); }

    @Override
    public Object getValue(ELContext context, Object base, Object property) { return null; }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) { return null; }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) { return true; }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) { return null; }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) { return null; }
}

package ai.arbor.gpu.tokenizer;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, byte for byte, for the values chat templates serialise: default separators
 * {@code ", "}/{@code ": "} ({@code ","} between items once indented), {@code indent}, {@code sort_keys},
 * {@code ensure_ascii}, and Python's float repr ({@code 1.0}, {@code 1e-05}, {@code 1e+16}).
 */
public final class PythonJson {

    /**
     * @param indent    null for one line; else a number of spaces or an indent string
     * @param itemSep   null for Python's default
     * @param keySep    null for Python's default
     */
    public record Options(Object indent, String itemSep, String keySep, boolean sortKeys, boolean ensureAscii) {
        public static final Options HF = new Options(null, null, null, false, false);
    }

    private PythonJson() {}

    public static String dumps(Object value, Options o) {
        String indentUnit = null;
        if (o.indent() instanceof Number n) indentUnit = " ".repeat(Math.max(0, n.intValue()));
        else if (o.indent() instanceof CharSequence s) indentUnit = s.toString();
        String itemSep = o.itemSep() != null ? o.itemSep() : indentUnit != null ? "," : ", ";
        String keySep = o.keySep() != null ? o.keySep() : ": ";
        StringBuilder sb = new StringBuilder();
        new Writer(sb, indentUnit, itemSep, keySep, o.sortKeys(), o.ensureAscii()).write(value, 0);
        return sb.toString();
    }

    public static String dumps(Object value) { return dumps(value, Options.HF); }

    private record Writer(StringBuilder sb, String indent, String itemSep, String keySep, boolean sortKeys,
                          boolean ensureAscii) {

        void write(Object v, int level) {
            if (v == null) sb.append("null");
            else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
            else if (v instanceof CharSequence s) string(s.toString());
            else if (v instanceof Character c) string(c.toString());
            else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                    || v instanceof BigInteger) sb.append(v);
            else if (v instanceof Number n) sb.append(floatRepr(n));
            else if (v instanceof Map<?, ?> m) map(m, level);
            else if (v instanceof Collection<?> c) list(new ArrayList<>(c), level);
            else if (v instanceof Object[] a) list(List.of(a), level);
            else if (v instanceof Map.Entry<?, ?> e) list(java.util.Arrays.asList(e.getKey(), e.getValue()), level);
            else string(v.toString());
        }

        private void map(Map<?, ?> m, int level) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) entries.sort((a, b) -> key(a.getKey()).compareTo(key(b.getKey())));
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) sb.append(itemSep);
                first = false;
                newline(level + 1);
                string(key(e.getKey()));
                sb.append(keySep);
                write(e.getValue(), level + 1);
            }
            newline(level);
            sb.append('}');
        }

        private void list(List<?> l, int level) {
            if (l.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            for (Object o : l) {
                if (!first) sb.append(itemSep);
                first = false;
                newline(level + 1);
                write(o, level + 1);
            }
            newline(level);
            sb.append(']');
        }

        private void newline(int level) {
            if (indent == null) return;
            sb.append('\n');
            for (int i = 0; i < level; i++) sb.append(indent);
        }

        /** Python converts bool/None/number keys to strings the JSON way. */
        private static String key(Object k) {
            if (k == null) return "null";
            if (k instanceof Boolean b) return b ? "true" : "false";
            if (k instanceof Double || k instanceof Float || k instanceof BigDecimal) return floatRepr((Number) k);
            return k.toString();
        }

        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                    }
                }
            }
            sb.append('"');
        }
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
    static String floatRepr(Number n) {
        double d = n.doubleValue();
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(n instanceof BigDecimal b ? b.toString() : Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (exp >= -5 && exp < 16) {
            // Python switches to exponent notation below 1e-4: repr(0.0001) == '0.0001', repr(0.00001) == '1e-05'.
            if (exp < -4) return sci(sb, digits, exp);
            if (exp < 0) {
                sb.append("0.").append("0".repeat(-exp - 1)).append(digits);
            } else if (digits.length() <= exp + 1) {
                sb.append(digits).append("0".repeat(exp + 1 - digits.length())).append(".0");
            } else {
                sb.append(digits, 0, exp + 1).append('.').append(digits.substring(exp + 1));
            }
            return sb.toString();
        }
        return sci(sb, digits, exp);
    }

    private static String sci(StringBuilder sb, String digits, int exp) {
        sb.append(digits.charAt(0));
        if (digits.length() > 1) sb.append('.').append(digits.substring(1));
        sb.append('e').append(exp < 0 ? '-' : '+');
        int a = Math.abs(exp);
        if (a < 10) sb.append('0');
        sb.append(a);
        return sb.toString();
    }
}

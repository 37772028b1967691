package ai.arbor.gpu.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Filters and tests whose Jinjava versions behave differently from jinja2/transformers. */
final class TemplateFilters {
    private TemplateFilters() {}

    /** transformers' {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    static final class ToJson implements Filter {
        @Override
        public String getName() { return "tojson"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ensureAscii = arg(args, kwargs, 0, "ensure_ascii");
            Object indent = arg(args, kwargs, 1, "indent");
            Object separators = arg(args, kwargs, 2, "separators");
            Object sortKeys = arg(args, kwargs, 3, "sort_keys");
            String itemSep = null, keySep = null;
            if (separators instanceof List<?> l && l.size() == 2) {
                itemSep = String.valueOf(l.get(0));
                keySep = String.valueOf(l.get(1));
            }
            if (indent instanceof Number n) indent = n.intValue();
            return PythonJson.dumps(var, new PythonJson.Options(indent, itemSep, keySep, truthy(sortKeys),
                    truthy(ensureAscii)));
        }

        private static Object arg(Object[] args, Map<String, Object> kwargs, int pos, String name) {
            if (kwargs != null && kwargs.containsKey(name)) return kwargs.get(name);
            return args != null && args.length > pos ? args[pos] : null;
        }

        private static boolean truthy(Object o) {
            return o instanceof Boolean b ? b : o != null && !"false".equalsIgnoreCase(o.toString());
        }
    }

    /** Python's {@code str()} for the {@code string} filter: booleans print as True/False. */
    static final class PyString implements Filter {
        @Override
        public String getName() { return "string"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var instanceof Boolean b) return b ? "True" : "False";
            return var == null ? "" : interpreter.getAsString(var);
        }
    }

    /** jinja2's {@code items}: a mapping's (key, value) pairs, for {@code for k, v in d | items}. */
    static final class Items implements Filter {
        @Override
        public String getName() { return "items"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            List<Map.Entry<Object, Object>> out = new ArrayList<>();
            if (var instanceof Map<?, ?> m)
                for (Map.Entry<?, ?> e : m.entrySet()) out.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
            return out;
        }
    }

    /** Python's notion: strings, mappings and sequences are all iterable ({@code "x" is iterable} is true). */
    static final class Iterable implements ExpTest {
        @Override
        public String getName() { return "iterable"; }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof Map<?, ?> || var instanceof java.lang.Iterable<?>
                    || (var != null && var.getClass().isArray());
        }
    }

    /** jinja2's {@code mapping} test. */
    static final class Mapping implements ExpTest {
        @Override
        public String getName() { return "mapping"; }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof Map<?, ?>;
        }
    }
}

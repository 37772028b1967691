package ai.arbor.gpu.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.time.ZonedDateTime;

/** The Jinjava instance chat templates run in, with the functions and filters transformers gives jinja2. */
final class TemplateEnvironment {
    private static final String RAISED = "arbor-template-raised: ";

    private TemplateEnvironment() {}

    static Jinjava create() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                // trim_blocks/lstrip_blocks and jinja2's dropping of the final newline are applied to the source by
                // TemplateSource and ChatTemplate, where they can follow jinja2 exactly.
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withKeepTrailingNewline(true)
                .withElResolver(resolver())
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseSnakeCasePropertyNaming(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withKeepNullableLoopValues(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUsePyishObjectMapper(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateEnvironment.class, "raiseException", String.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                TemplateEnvironment.class, "strftimeNow", String.class));
        j.getGlobalContext().registerTag(new GenerationTag());
        j.getGlobalContext().registerFilter(new TemplateFilters.ToJson());
        j.getGlobalContext().registerFilter(new TemplateFilters.Items());
        j.getGlobalContext().registerFilter(new TemplateFilters.PyString());
        j.getGlobalContext().registerExpTest(new TemplateFilters.Iterable());
        j.getGlobalContext().registerExpTest(new TemplateFilters.Mapping());
        return j;
    }

    /** Python string methods first, then Jinjava's usual (read-only) resolution of maps, lists and beans. */
    private static jinjava.javax.el.ELResolver resolver() {
        jinjava.javax.el.CompositeELResolver r = new jinjava.javax.el.CompositeELResolver();
        r.add(new PythonStringMethods());
        r.add(com.hubspot.jinjava.el.JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        return r;
    }

    /** Called by templates; Jinjava records the exception as a FATAL error, from which {@link #raisedMessage} recovers it. */
    public static String raiseException(String message) {
        throw new TemplateRaisedException(message);
    }

    public static String strftimeNow(String format) {
        return Strftime.format(ZonedDateTime.now(), format);
    }

    /** The message given to raise_exception, if this error came from it. */
    static String raisedMessage(TemplateError e) {
        String fromCause = raisedMessage(e.getException());
        if (fromCause != null) return fromCause;
        String m = e.getMessage();
        if (m != null) {
            int i = m.indexOf(RAISED);
            if (i >= 0) return m.substring(i + RAISED.length());
        }
        return null;
    }

    static String raisedMessage(Throwable t) {
        while (t != null) {
            if (t instanceof TemplateRaisedException r) return r.getMessage();
            if (t.getMessage() != null && t.getMessage().contains(RAISED))
                return t.getMessage().substring(t.getMessage().indexOf(RAISED) + RAISED.length());
            t = t.getCause();
        }
        return null;
    }

    static final class TemplateRaisedException extends RuntimeException {
        TemplateRaisedException(String message) { super(message); }

        @Override
        public String toString() { return RAISED + getMessage(); }
    }
}

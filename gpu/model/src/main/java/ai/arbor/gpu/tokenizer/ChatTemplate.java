package ai.arbor.gpu.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.tree.Node;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template rendered by Jinjava configured like transformers' jinja2 environment
 * (trim_blocks, lstrip_blocks, no autoescape, the {@code raise_exception} and {@code strftime_now} globals, a
 * Python-compatible {@code tojson}, Python string methods). The source is first rewritten where Jinjava would read
 * jinja2 differently ({@link TemplateSource}); the result is tested character for character against Python jinja2 on
 * the Qwen2.5, Qwen3 and Llama 3.1 templates.
 *
 * <p>Thread-safe: each {@link #render} runs the parsed template in its own Jinjava interpreter. Variables follow transformers:
 * {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, then {@code extraVars}
 * (e.g. {@code tools}, {@code date_string}, {@code enable_thinking}); values are plain maps, lists, strings, numbers
 * and booleans, as Jackson produces from JSON.
 */
public final class ChatTemplate {
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;
    /** Parsed once: Jinjava's renderForResult would re-parse and copy its whole global library on every call. */
    private final Node tree;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        // jinja2 (keep_trailing_newline=False) drops one newline at the end of the template source.
        String trimmed = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.source = TemplateSource.rewrite(trimmed);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinjava = TemplateEnvironment.create();
        JinjavaInterpreter parser = interpreter(Map.of());
        JinjavaInterpreter.pushCurrent(parser);
        try {
            this.tree = parser.parse(this.source);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        failOnFatal(parser.getErrorsCopy());
    }

    public String source() { return source; }

    /**
     * Renders a conversation. Each message is a map with at least {@code role} and {@code content}; extra variables
     * (e.g. {@code tools}, {@code date_string}) are visible to the template.
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extraVars) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("bos_token", bosToken == null ? "" : bosToken);
        vars.put("eos_token", eosToken == null ? "" : eosToken);
        if (extraVars != null) vars.putAll(extraVars);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        JinjavaInterpreter interpreter = interpreter(vars);
        JinjavaInterpreter.pushCurrent(interpreter);
        String output;
        try {
            output = interpreter.render(tree);
        } catch (RuntimeException e) {
            String raised = TemplateEnvironment.raisedMessage(e);
            throw new ChatTemplateException(raised != null ? raised : "chat template failed: " + e.getMessage(), e);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        failOnFatal(interpreter.getErrorsCopy());
        return output;
    }

    /** A fresh interpreter whose context reads (never writes) the shared global functions and filters. */
    private JinjavaInterpreter interpreter(Map<String, Object> vars) {
        Context context = new Context(jinjava.getGlobalContext(), vars, jinjava.getGlobalConfig().getDisabled());
        return new PythonInterpreter(jinjava, context, jinjava.getGlobalConfig());
    }

    private static void failOnFatal(List<TemplateError> errors) {
        for (TemplateError e : errors) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                String raised = TemplateEnvironment.raisedMessage(e);
                if (raised != null) throw new ChatTemplateException(raised);
                throw new ChatTemplateException("chat template failed: " + e.getMessage()
                        + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""));
            }
        }
    }
}

package ai.arbor.gpu.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template rendered by Jinjava configured like transformers' jinja2 environment
 * (trim_blocks, lstrip_blocks, no autoescape, the {@code raise_exception} and {@code strftime_now} globals and a
 * Python-compatible {@code tojson}).
 */
public final class ChatTemplate {
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        // jinja2 (keep_trailing_newline=False) drops one newline at the end of the template source.
        String trimmed = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.source = TemplateSource.rewrite(trimmed);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinjava = TemplateEnvironment.create();
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
        RenderResult result = jinjava.renderForResult(source, vars);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                String raised = TemplateEnvironment.raisedMessage(e);
                if (raised != null) throw new ChatTemplateException(raised);
                throw new ChatTemplateException("chat template failed: " + e.getMessage()
                        + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""));
            }
        }
        return result.getOutput();
    }
}

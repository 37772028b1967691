package ai.arbor.actors.frontend;

import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.tokenizer.ChatTemplate;
import ai.arbor.gpu.tokenizer.ChatTemplateException;
import ai.arbor.gpu.tokenizer.HfTokenizer;
import ai.arbor.gpu.tokenizer.IncrementalDetokenizer;
import java.util.List;
import java.util.Map;

/** A model directory's tokenizer.json and chat template, as the frontend uses them. */
public final class HfModelTokenizer implements ModelTokenizer {
    private final HfTokenizer tokenizer;
    private final ChatTemplate template;
    private final int[] eos;
    private final int vocabSize;
    private final String architecture;

    public HfModelTokenizer(HfModel model) { this(model, null); }

    /** @param templateOverride replaces the model's chat template (vLLM's {@code --chat-template}); null keeps it */
    public HfModelTokenizer(HfModel model, ChatTemplate templateOverride) {
        this.tokenizer = model.tokenizer();
        this.template = templateOverride != null ? templateOverride : model.chatTemplate();
        this.architecture = model.config().architecture().hfName();
        this.eos = model.eosTokenIds();
        // ids the tokenizer cannot decode or the embedding does not have are both invalid prompt tokens
        this.vocabSize = Math.min(tokenizer.vocabSize(), model.config().vocabSize());
    }

    @Override
    public int[] encodePrompt(String text) { return tokenizer.encode(text); }

    @Override
    public int[] encodeChat(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> vars) {
        if (template == null) throw new IllegalArgumentException("the model has no chat template; use /v1/completions");
        String rendered;
        try {
            rendered = template.render(messages, addGenerationPrompt, vars);
        } catch (ChatTemplateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        // the template already wrote BOS and the role markers: adding special tokens again would double them
        return tokenizer.encodeNoSpecial(rendered);
    }

    @Override
    public TextDecoder newDecoder(int[] promptTokenIds) {
        IncrementalDetokenizer d = new IncrementalDetokenizer(tokenizer, promptTokenIds);
        return new TextDecoder() {
            @Override
            public String next(int tokenId) { return d.push(tokenId); }

            @Override
            public String flush() { return d.flush(); }
        };
    }

    @Override
    public String tokenText(int tokenId) { return tokenizer.decode(new int[] {tokenId}, false); }

    @Override
    public int vocabSize() { return vocabSize; }

    @Override
    public int[] eosTokenIds() { return eos.clone(); }

    @Override
    public int[] encodeNoSpecial(String text) { return tokenizer.encodeNoSpecial(text); }

    @Override
    public String decode(int[] tokenIds) { return tokenizer.decode(tokenIds, false); }

    @Override
    public String chatTemplateSource() { return template == null ? null : template.source(); }

    @Override
    public String architecture() { return architecture; }

    /** A template file read with the model's special tokens, as vLLM's {@code --chat-template FILE}. */
    public static ChatTemplate templateFile(HfModel model, java.nio.file.Path file) {
        try {
            return new ChatTemplate(java.nio.file.Files.readString(file), model.tokenizer().bosToken(),
                    model.tokenizer().eosToken());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the chat template " + file + ": " + e.getMessage(), e);
        } catch (ChatTemplateException e) {
            throw new IllegalArgumentException("invalid chat template " + file + ": " + e.getMessage(), e);
        }
    }
}

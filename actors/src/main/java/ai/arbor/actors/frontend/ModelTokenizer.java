package ai.arbor.actors.frontend;

import java.util.List;
import java.util.Map;

/**
 * What a frontend needs from a model's tokenizer: prompts to token ids, chat messages through the chat template, and
 * token ids back to text, incrementally. Implemented over the model directory's tokenizer.json and chat template
 * ({@link HfModelTokenizer}) and by a synthetic byte tokenizer for benchmarks.
 */
public interface ModelTokenizer {

    /** A completion prompt, with the special tokens (BOS) the tokenizer adds by default. */
    int[] encodePrompt(String text);

    /**
     * Renders {@code messages} (OpenAI shape: role, content, ...) with the chat template and tokenizes the result
     * without adding special tokens again.
     *
     * @throws IllegalArgumentException when the template rejects the messages
     */
    int[] encodeChat(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> templateVars);

    /** A fresh decoder for one output sequence; the prompt's last tokens give the decoder its context. */
    TextDecoder newDecoder(int[] promptTokenIds);

    /** One token's text, for logprobs ({@code top_logprobs[].token}). */
    String tokenText(int tokenId);

    int vocabSize();

    /** End-of-sequence ids (the engine stops on them unless {@code ignore_eos}). */
    int[] eosTokenIds();

    /** Text to token ids without the special tokens (BOS) the tokenizer would add ({@code /tokenize}'s default off). */
    int[] encodeNoSpecial(String text);

    /** Token ids back to text, special tokens kept ({@code /detokenize}). */
    String decode(int[] tokenIds);

    /** The chat template's source, so that tool-call and reasoning formats can be told from it; null if none. */
    default String chatTemplateSource() { return null; }

    /** The model family (e.g. Qwen2ForCausalLM), for choosing output parsers; empty if unknown. */
    default String architecture() { return ""; }
}

package ai.arbor.http;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.http.chat.OutputRules;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A validated, tokenized chat or completion request. A completion may carry several prompts; each yields {@code n}
 * choices, numbered prompt-major as OpenAI does.
 *
 * @param topLogprobs null when no logprobs were asked for
 * @param rules       how a chat's output is read back into reasoning, content and tool calls
 * @param toolSchema  the JSON Schema that tool_choice required or a named function holds the output to, else null
 */
record ParsedRequest(boolean chat, ServedModel model, List<int[]> prompts, SamplingParams sampling, int n,
                     boolean stream, boolean includeUsage, List<String> stop, Integer topLogprobs, OutputRules rules,
                     ObjectNode toolSchema) {}

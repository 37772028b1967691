package ai.arbor.http;

import ai.arbor.config.ChatSettings;
import ai.arbor.config.RequestLimits;
import ai.arbor.gpu.protocol.ContextLength;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.OutputConstraint;
import ai.arbor.http.chat.OutputRules;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates OpenAI chat and completion requests (with vLLM's extra sampling fields) and tokenizes their prompts.
 * Fields OpenAI clients commonly send but that change nothing here are accepted and ignored; any other unknown field
 * is a 400, as in Dynamo, so that a typo does not silently change the meaning of a request.
 */
final class RequestParser {
    private static final int MAX_LOGPROBS = 20;
    private static final int MAX_N = 128;
    private static final int COMPLETION_DEFAULT_MAX_TOKENS = 16;

    private static final Set<String> COMMON = Set.of("model", "stream", "stream_options", "max_tokens", "temperature",
            "top_p", "n", "seed", "stop", "presence_penalty", "frequency_penalty", "logprobs", "top_k", "min_p",
            "repetition_penalty", "min_tokens", "ignore_eos", "stop_token_ids",
            // accepted and ignored
            "user", "metadata", "store", "service_tier", "priority", "cache_salt", "request_id",
            "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output", "best_of",
            "response_format", "structured_outputs", "logit_bias");
    private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens", "top_logprobs",
            "add_generation_prompt", "chat_template_kwargs", "parallel_tool_calls", "tool_choice", "tools",
            "reasoning_effort", "modalities");
    private static final Set<String> COMPLETION_ONLY = Set.of("prompt", "echo", "suffix");

    private final ModelRegistry models;
    private final RequestLimits limits;
    private final ChatSettings chat;

    RequestParser(ModelRegistry models, RequestLimits limits, ChatSettings chat) {
        this.models = models;
        this.limits = limits;
        this.chat = chat;
    }

    /** Whether the rendered prompt ends inside an opened {@code <think>}, so the output starts as reasoning. */
    private static boolean opensThinking(ServedModel model, int[] prompt) {
        int from = Math.max(0, prompt.length - 8);
        String tail = model.frontend().tokenizer().decode(java.util.Arrays.copyOfRange(prompt, from, prompt.length));
        return tail.strip().endsWith("<think>");
    }

    ParsedRequest chat(JsonNode body) {
        JsonFields f = fields(body, CHAT_ONLY);
        String modelName = f.requiredString("model");
        List<Map<String, Object>> messages = ChatMessages.parse(f.raw("messages"));
        Integer maxTokens = f.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens == null) maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
        boolean logprobs = f.bool("logprobs", false);
        Integer top = f.integer("top_logprobs", 0, MAX_LOGPROBS);
        if (top != null && !logprobs) throw ApiError.badParam("top_logprobs", "'top_logprobs' requires 'logprobs' to be true");
        Integer topLogprobs = logprobs ? (top == null ? 0 : top) : null;
        Common c = common(f, false, limits);
        ServedModel model = model(modelName);
        long bytes = 0;
        for (Map<String, Object> m : messages) bytes += PromptBytes.utf8Length((String) m.get("content"));
        PromptBytes.check(bytes, model.maxModelLen(), limits.maxBytesPerToken(), "messages");
        ChatPrompt chatPrompt = ChatPrompt.render(f, messages, model, chat);
        int[] prompt = chatPrompt.tokenIds();
        ChatTools tools = chatPrompt.tools();
        int max = maxTokens != null ? maxTokens : model.maxModelLen() - prompt.length;
        checkLength(model, prompt, max, maxTokens != null, "messages");
        if (c.n > limits.maxSequencesPerRequest()) {
            throw ApiError.badParam("n", "'n' must be at most " + limits.maxSequencesPerRequest());
        }
        OutputRules.Reasoning reasoning = chatPrompt.format().reasoning();
        if (tools.schema() != null) {
            // a named function or required: constrained decoding holds the output to the calls' schema from the first
            // token (so the arguments always validate), and no reasoning comes before them
            if (c.constraint != null) {
                throw ApiError.badParam("tool_choice", "'tool_choice' \"required\" or a named function cannot be "
                        + "combined with 'response_format' or 'structured_outputs'");
            }
            c.constraint = ConstraintParser.jsonSchema(tools.schema(), "tools");
            reasoning = OutputRules.Reasoning.NONE;
        }
        OutputRules rules = new OutputRules(tools.mode(), tools.function(), tools.parallelToolCalls(), reasoning,
                reasoning != OutputRules.Reasoning.NONE && opensThinking(model, prompt));
        return new ParsedRequest(true, model, List.of(prompt), c.sampling(model, max, topLogprobs), c.n, c.stream,
                c.includeUsage, c.stop, topLogprobs, rules, tools.schema());
    }

    ParsedRequest completion(JsonNode body) {
        JsonFields f = fields(body, COMPLETION_ONLY);
        String modelName = f.requiredString("model");
        if (!f.has("prompt")) throw ApiError.badParam("prompt", "'prompt' is a required property");
        Integer maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
        Integer logprobs = f.integer("logprobs", 0, MAX_LOGPROBS);
        if (f.bool("echo", false)) throw ApiError.badParam("echo", "'echo' is not supported");
        if (f.has("suffix")) throw ApiError.badParam("suffix", "'suffix' is not supported");
        Common c = common(f, true, limits);
        ServedModel model = model(modelName);
        JsonNode promptNode = f.raw("prompt");
        // before any tokenizing: how many sequences, and whether each prompt could fit at all
        int count = promptNode.isArray() && !promptNode.isEmpty() && !promptNode.get(0).isIntegralNumber()
                ? promptNode.size() : 1;
        if ((long) count * c.n > limits.maxSequencesPerRequest()) {
            throw ApiError.badParam(count > 1 ? "prompt" : "n", "this request asks for " + count + " prompts x n "
                    + c.n + " = " + ((long) count * c.n) + " sequences; at most " + limits.maxSequencesPerRequest()
                    + " are allowed per request");
        }
        List<int[]> prompts = prompts(promptNode, model, limits.maxBytesPerToken());
        int max = maxTokens != null ? maxTokens : COMPLETION_DEFAULT_MAX_TOKENS;
        for (int[] p : prompts) checkLength(model, p, max, true, "prompt");
        return new ParsedRequest(false, model, prompts, c.sampling(model, max, logprobs), c.n, c.stream, c.includeUsage,
                c.stop, logprobs, OutputRules.PLAIN, null);
    }

    private JsonFields fields(JsonNode body, Set<String> specific) {
        if (body == null || !body.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
        body.fieldNames().forEachRemaining(name -> {
            if (!COMMON.contains(name) && !specific.contains(name)) {
                throw new ApiError(400, "invalid_request_error", "Unrecognized request argument supplied: " + name,
                        name, "unknown_parameter");
            }
        });
        return new JsonFields(body);
    }

    private ServedModel model(String name) {
        return models.get(name).orElseThrow(() -> ApiError.modelNotFound(name));
    }

    private static void checkLength(ServedModel model, int[] prompt, int maxTokens, boolean explicit, String promptParam) {
        if (prompt.length == 0) throw ApiError.badParam(promptParam, "the prompt is empty");
        // without max_tokens the answer may stop at the context's end: one token must fit
        ContextLength.exceeded(prompt.length, explicit ? maxTokens : 1, model.maxModelLen()).ifPresent(why -> {
            throw new ApiError(400, "invalid_request_error", why + " Please reduce the length of the " + promptParam
                    + " or completion.", explicit ? "max_tokens" : promptParam, "context_length_exceeded");
        });
    }

    /** A string, a list of strings, a list of token ids, or a list of lists of token ids. */
    private static List<int[]> prompts(JsonNode p, ServedModel model, int maxBytesPerToken) {
        var tok = model.frontend().tokenizer();
        List<int[]> out = new ArrayList<>();
        if (p.isTextual()) {
            PromptBytes.check(PromptBytes.utf8Length(p.textValue()), model.maxModelLen(), maxBytesPerToken, "prompt");
            out.add(tok.encodePrompt(p.textValue()));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            out.add(tokenIds(p, tok.vocabSize(), "prompt"));
        } else if (p.isArray() && !p.isEmpty()) {
            for (int i = 0; i < p.size(); i++) {
                JsonNode e = p.get(i);
                if (e.isTextual()) {
                    PromptBytes.check(PromptBytes.utf8Length(e.textValue()), model.maxModelLen(), maxBytesPerToken,
                            "prompt");
                    out.add(tok.encodePrompt(e.textValue()));
                }
                else if (e.isArray()) out.add(tokenIds(e, tok.vocabSize(), "prompt[" + i + "]"));
                else throw ApiError.badParam("prompt", "'prompt' must be a string, an array of strings, or token ids");
            }
        } else {
            throw ApiError.badParam("prompt", "'prompt' must be a non-empty string, array of strings, or token ids");
        }
        return out;
    }

    private static int[] tokenIds(JsonNode arr, int vocab, String where) {
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = arr.get(i);
            // canConvertToLong first: asLong() wraps 2^64 + 5 to 5
            if (!e.isIntegralNumber() || !e.canConvertToLong() || e.asLong() < 0 || e.asLong() >= vocab) {
                throw ApiError.badParam("prompt", where + "[" + i + "] must be a token id between 0 and " + (vocab - 1));
            }
            ids[i] = e.intValue();
        }
        return ids;
    }

    /** Fields chat and completions share. */
    private static final class Common {
        Double temperature, topP, minP, repetitionPenalty, presence, frequency;
        Integer topK, minTokens;
        Long seed;
        int n;
        boolean stream, includeUsage, ignoreEos;
        List<String> stop;
        int[] stopTokenIds;
        OutputConstraint constraint;
        JsonNode logitBias;

        SamplingParams sampling(ServedModel model, int maxTokens, Integer logprobs) {
            SamplingDefaults d = model.defaults();
            int vocab = model.frontend().tokenizer().vocabSize();
            for (int id : stopTokenIds) {
                if (id >= vocab) {
                    throw ApiError.badParam("stop_token_ids", "'stop_token_ids' must contain token ids between 0 and "
                            + (vocab - 1) + ", got " + id);
                }
            }
            if (minTokens != null && minTokens > maxTokens) {
                throw ApiError.badParam("min_tokens", "'min_tokens' (" + minTokens + ") must not exceed max_tokens ("
                        + maxTokens + ")");
            }
            return new SamplingParams(
                    temperature != null ? temperature : d.temperature() != null ? d.temperature() : 1.0,
                    topP != null ? topP : d.topP() != null ? d.topP() : 1.0,
                    topK != null ? topK : d.topK() != null ? d.topK() : 0,
                    minP != null ? minP : 0.0,
                    seed,
                    presence != null ? presence : 0.0,
                    frequency != null ? frequency : 0.0,
                    repetitionPenalty != null ? repetitionPenalty
                            : d.repetitionPenalty() != null ? d.repetitionPenalty() : 1.0,
                    maxTokens,
                    minTokens != null ? minTokens : 0,
                    ignoreEos,
                    stopTokenIds,
                    stop,
                    logprobs,
                    constraint,
                    logitBias(logitBias, model.frontend().tokenizer().vocabSize()));
        }

        /** OpenAI's {@code logit_bias}: token ids (as strings) to a bias in [-100, 100]. */
        private static Map<Integer, Float> logitBias(JsonNode bias, int vocab) {
            if (bias == null || bias.isNull()) return null;
            if (!bias.isObject()) throw ApiError.badParam("logit_bias", "'logit_bias' must map token ids to numbers");
            Map<Integer, Float> out = new LinkedHashMap<>();
            for (var it = bias.fields(); it.hasNext(); ) {
                var e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException x) {
                    throw ApiError.badParam("logit_bias", "'logit_bias' keys must be token ids, got '" + e.getKey() + "'");
                }
                if (id < 0 || id >= vocab) {
                    throw ApiError.badParam("logit_bias", "'logit_bias' token id " + id + " is outside the vocabulary [0, "
                            + vocab + ")");
                }
                JsonNode v = e.getValue();
                if (!v.isNumber() || v.doubleValue() < -100 || v.doubleValue() > 100) {
                    throw ApiError.badParam("logit_bias", "'logit_bias' values must be numbers in [-100, 100], got " + v
                            + " for token " + id);
                }
                out.put(id, v.floatValue());
            }
            return out.isEmpty() ? null : out;
        }
    }

    private static Common common(JsonFields f, boolean completion, RequestLimits limits) {
        Common c = new Common();
        c.temperature = f.number("temperature", 0, 2);
        c.topP = f.number("top_p", 0, 1);
        if (c.topP != null && c.topP == 0) throw ApiError.badParam("top_p", "'top_p' must be in (0, 1], got 0");
        c.topK = f.integer("top_k", -1, Integer.MAX_VALUE);
        c.minP = f.number("min_p", 0, 1);
        c.repetitionPenalty = f.number("repetition_penalty", 0, Double.MAX_VALUE);
        if (c.repetitionPenalty != null && c.repetitionPenalty == 0) {
            throw ApiError.badParam("repetition_penalty", "'repetition_penalty' must be > 0");
        }
        c.presence = f.number("presence_penalty", -2, 2);
        c.frequency = f.number("frequency_penalty", -2, 2);
        c.minTokens = f.integer("min_tokens", 0, Integer.MAX_VALUE);
        c.seed = f.longValue("seed");
        Integer n = f.integer("n", 1, MAX_N);
        c.n = n == null ? 1 : n;
        Integer bestOf = f.integer("best_of", 1, MAX_N);
        if (bestOf != null && bestOf != c.n) throw ApiError.badParam("best_of", "'best_of' other than n is not supported");
        c.stream = f.bool("stream", false);
        JsonNode so = f.raw("stream_options");
        if (so != null) {
            if (!so.isObject()) throw ApiError.badParam("stream_options", "'stream_options' must be an object");
            if (!c.stream) throw ApiError.badParam("stream_options", "'stream_options' is only allowed when 'stream' is true");
            JsonNode iu = so.get("include_usage");
            if (iu != null && !iu.isNull() && !iu.isBoolean()) {
                throw ApiError.badParam("stream_options.include_usage", "'stream_options.include_usage' must be a boolean");
            }
            c.includeUsage = iu != null && iu.asBoolean(false);
        }
        c.ignoreEos = f.bool("ignore_eos", false);
        c.logitBias = f.raw("logit_bias");
        c.constraint = ConstraintParser.parse(f.raw("response_format"), f.raw("structured_outputs"));
        c.stop = f.stringOrList("stop");
        if (c.stop.size() > limits.maxStopStrings()) {
            throw ApiError.badParam("stop", "'stop' may hold at most " + limits.maxStopStrings() + " strings, got "
                    + c.stop.size());
        }
        for (String stop : c.stop) {
            if (PromptBytes.utf8Length(stop) > limits.maxStopStringBytes()) {
                throw ApiError.badParam("stop", "a stop string may be at most " + limits.maxStopStringBytes()
                        + " bytes long");
            }
        }
        c.stopTokenIds = f.intList("stop_token_ids", 0, Integer.MAX_VALUE);
        if (c.stopTokenIds.length > limits.maxStopStrings()) {
            throw ApiError.badParam("stop_token_ids", "'stop_token_ids' may hold at most " + limits.maxStopStrings()
                    + " ids, got " + c.stopTokenIds.length);
        }
        if (f.bool("include_stop_str_in_output", false)) {
            throw ApiError.badParam("include_stop_str_in_output", "'include_stop_str_in_output' is not supported");
        }
        if (!completion && f.has("logprobs") && !f.raw("logprobs").isBoolean()) {
            throw ApiError.badParam("logprobs", "'logprobs' must be a boolean");
        }
        return c;
    }
}

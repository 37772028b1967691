package ai.arbor.http;

import ai.arbor.actors.frontend.EmbeddingFailure;
import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.config.RequestLimits;
import ai.arbor.gpu.protocol.Pooling;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /v1/embeddings}, the HTTP side: strings or token ids, one or a batch, validated and tokenized here, and
 * the OpenAI-shaped answer (floats, or base64 of little-endian float32 as OpenAI's) once a worker computed the
 * vectors. The vectors come the way generations go ({@code Frontend.embed}: the router picks a worker), so every
 * deployment serves them. {@code dimensions} shortens the vectors (the first components, made unit length again) of
 * a model trained for it ({@code EmbeddingDimensions}); any other model answers it with a 400.
 */
final class Embeddings {
    private static final Set<String> FIELDS = Set.of("model", "input", "encoding_format", "dimensions", "user",
            "add_special_tokens");

    /** A valid request: its inputs as token ids, {@code tokens} of them in all; {@code dimensions} 0: full size. */
    record Request(ServedModel model, List<int[]> inputs, boolean base64, int dimensions, long tokens) {}

    private final ModelRegistry models;
    private final RequestLimits limits;

    Embeddings(ModelRegistry models, RequestLimits limits) {
        this.models = models;
        this.limits = limits;
    }

    Request parse(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
        body.fieldNames().forEachRemaining(name -> {
            if (!FIELDS.contains(name)) {
                throw new ApiError(400, "invalid_request_error", "Unrecognized request argument supplied: " + name,
                        name, "unknown_parameter");
            }
        });
        JsonFields f = new JsonFields(body);
        String name = f.requiredString("model");
        ServedModel model = models.get(name).orElseThrow(() -> ApiError.modelNotFound(name));
        String encoding = f.has("encoding_format") ? f.requiredString("encoding_format") : "float";
        if (!encoding.equals("float") && !encoding.equals("base64")) {
            throw ApiError.badParam("encoding_format", "'encoding_format' must be 'float' or 'base64', got '" + encoding + "'");
        }
        int dimensions = 0;
        if (f.has("dimensions")) {
            JsonNode d = f.raw("dimensions");
            if (!d.isIntegralNumber()) throw ApiError.badParam("dimensions", "'dimensions' must be an integer");
            dimensions = d.asInt();
            model.embeddingDimensions().refusal(dimensions).ifPresent(why -> {
                throw ApiError.badParam("dimensions", "'dimensions' is not supported for model '" + name + "': " + why);
            });
        }
        List<int[]> inputs = inputs(f.raw("input"), model, f.bool("add_special_tokens", true));
        long tokens = 0;
        for (int[] in : inputs) tokens += in.length;
        if (tokens > limits.maxQueuedTokens()) {
            throw ApiError.badParam("input", "the inputs hold " + tokens + " tokens in all; a model queues at most "
                    + limits.maxQueuedTokens());
        }
        return new Request(model, inputs, encoding.equals("base64"), dimensions, tokens);
    }

    /**
     * What the request takes of the work budget: one sequence (a worker embeds its inputs one after the other, as one
     * job) and its input tokens.
     */
    static WorkBudget.Work work(Request r) { return new WorkBudget.Work(r.model().name(), 1, r.tokens()); }

    /** The error a failed {@code Frontend.embed} answers with. */
    static ApiError failure(EmbeddingFailure f) {
        if (f.timedOut()) return new ApiError(503, "service_unavailable", f.getMessage(), null, "timeout");
        if (f.why() == null) return new ApiError(503, "service_unavailable", f.getMessage(), null, null);
        return switch (f.why()) {
            case UNSUPPORTED -> new ApiError(400, "invalid_request_error", f.getMessage(), "model", "unsupported");
            case INVALID_INPUT -> ApiError.badParam("input", f.getMessage());
            case NO_ROOM -> new ApiError(503, "service_unavailable", f.getMessage(), null, null);
            case ENGINE_ERROR -> new ApiError(500, "internal_server_error", f.getMessage(), null, null);
        };
    }

    /** A string, a list of strings, a list of token ids, or a list of lists of token ids. */
    private List<int[]> inputs(JsonNode input, ServedModel model, boolean special) {
        if (input == null) throw ApiError.badParam("input", "'input' is a required property");
        ModelTokenizer tok = model.frontend().tokenizer();
        List<JsonNode> items = new ArrayList<>();
        if (input.isArray() && !input.isEmpty() && input.get(0).isIntegralNumber()) items.add(input);
        else if (input.isArray()) input.forEach(items::add);
        else items.add(input);
        if (items.isEmpty()) throw ApiError.badParam("input", "'input' must not be empty");
        if (items.size() > limits.maxEmbeddingInputs()) {
            throw ApiError.badParam("input", "'input' holds " + items.size() + " inputs; at most "
                    + limits.maxEmbeddingInputs() + " are allowed per request");
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode e = items.get(i);
            String where = input.isArray() && items.size() > 1 || input.isArray() && !e.isArray() ? "input[" + i + "]" : "input";
            int[] ids;
            if (e.isTextual()) {
                PromptBytes.check(PromptBytes.utf8Length(e.textValue()), model.maxModelLen(), limits.maxBytesPerToken(),
                        "input");
                ids = special ? tok.encodePrompt(e.textValue()) : tok.encodeNoSpecial(e.textValue());
            } else if (e.isArray()) {
                ids = new int[e.size()];
                for (int j = 0; j < ids.length; j++) {
                    JsonNode t = e.get(j);
                    if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= tok.vocabSize()) {
                        throw ApiError.badParam("input", where + "[" + j + "] must be a token id between 0 and "
                                + (tok.vocabSize() - 1));
                    }
                    ids[j] = t.intValue();
                }
            } else {
                throw ApiError.badParam("input", "'input' must be a string, an array of strings, or token ids");
            }
            if (ids.length == 0) throw ApiError.badParam("input", where + " is empty");
            if (ids.length > model.maxModelLen()) {
                throw new ApiError(400, "invalid_request_error", where + " has " + ids.length + " tokens; this "
                        + "model's maximum context length is " + model.maxModelLen() + " tokens", "input",
                        "context_length_exceeded");
            }
            out.add(ids);
        }
        return out;
    }

    static ObjectNode response(Request r, float[][] vectors) {
        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            float[] vector = r.dimensions() > 0 && r.dimensions() < vectors[i].length
                    ? Pooling.normalize(Arrays.copyOf(vectors[i], r.dimensions())) : vectors[i];
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            if (r.base64()) {
                ByteBuffer b = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : vector) b.putFloat(v);
                e.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode v = e.putArray("embedding");
                for (float x : vector) v.add(x);
            }
        }
        out.put("model", r.model().name());
        out.putObject("usage").put("prompt_tokens", r.tokens()).put("total_tokens", r.tokens());
        return out;
    }
}

package ai.arbor.http;

import ai.arbor.actors.frontend.ModelTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code POST /v1/embeddings}: strings or token ids, one or a batch, pooled as the model declares and normalised,
 * returned as floats or base64 (little-endian float32, as OpenAI's). Requests go straight to the engine of the
 * process that serves the model ({@link #register}), not through the router: {@code arbor serve} registers its
 * engine; a frontend with no engine of its own answers that it has no embeddings. {@code dimensions} is refused,
 * since no served model is trained for shortened (Matryoshka) vectors.
 */
public final class Embeddings {
    /** Pooled, normalised vectors for token-id prompts, one per prompt. */
    @FunctionalInterface
    public interface Embedder {
        CompletionStage<float[][]> embed(List<int[]> prompts);
    }

    private static final Set<String> FIELDS = Set.of("model", "input", "encoding_format", "dimensions", "user",
            "add_special_tokens");

    private final ModelRegistry models;
    private final Map<String, Embedder> embedders = new ConcurrentHashMap<>();

    Embeddings(ModelRegistry models) { this.models = models; }

    /** Serves embeddings of {@code model} with {@code embedder}. */
    public void register(String model, Embedder embedder) { embedders.put(model, embedder); }

    CompletionStage<ObjectNode> create(JsonNode body) {
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
        if (f.has("dimensions")) {
            throw ApiError.badParam("dimensions", "'dimensions' is not supported: model '" + name + "' returns "
                    + "full-size embeddings only (it is not trained for shortened vectors)");
        }
        List<int[]> prompts = inputs(f.raw("input"), model, f.bool("add_special_tokens", true));
        Embedder embedder = embedders.get(name);
        if (embedder == null) {
            throw new ApiError(400, "invalid_request_error", "model '" + name + "' has no embeddings here: they are "
                    + "computed by `arbor serve`'s own engine", "model", "unsupported");
        }
        int tokens = prompts.stream().mapToInt(p -> p.length).sum();
        return embedder.embed(prompts).handle((vectors, t) -> {
            if (t != null) throw failure(t);
            return response(name, vectors, encoding.equals("base64"), tokens);
        });
    }

    private static RuntimeException failure(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof UnsupportedOperationException) {
            return new ApiError(400, "invalid_request_error", cause.getMessage(), "model", "unsupported");
        }
        if (cause instanceof IllegalArgumentException) return ApiError.badParam("input", cause.getMessage());
        if (cause instanceof IllegalStateException) {
            return new ApiError(503, "service_unavailable", cause.getMessage(), null, null);
        }
        return new CompletionException(cause);
    }

    /** A string, a list of strings, a list of token ids, or a list of lists of token ids. */
    private static List<int[]> inputs(JsonNode input, ServedModel model, boolean special) {
        if (input == null) throw ApiError.badParam("input", "'input' is a required property");
        ModelTokenizer tok = model.frontend().tokenizer();
        List<JsonNode> items = new ArrayList<>();
        if (input.isArray() && !input.isEmpty() && input.get(0).isIntegralNumber()) items.add(input);
        else if (input.isArray()) input.forEach(items::add);
        else items.add(input);
        if (items.isEmpty()) throw ApiError.badParam("input", "'input' must not be empty");
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode e = items.get(i);
            String where = input.isArray() && items.size() > 1 || input.isArray() && !e.isArray() ? "input[" + i + "]" : "input";
            int[] ids;
            if (e.isTextual()) {
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
                throw ApiError.badParam("input", where + " has " + ids.length + " tokens; this model's maximum "
                        + "context length is " + model.maxModelLen() + " tokens");
            }
            out.add(ids);
        }
        return out;
    }

    private static ObjectNode response(String model, float[][] vectors, boolean base64, int tokens) {
        ObjectNode r = Json.object();
        r.put("object", "list");
        ArrayNode data = r.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            if (base64) {
                ByteBuffer b = ByteBuffer.allocate(vectors[i].length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : vectors[i]) b.putFloat(v);
                e.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode v = e.putArray("embedding");
                for (float x : vectors[i]) v.add(x);
            }
        }
        r.put("model", model);
        r.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        return r;
    }
}

package ai.arbor.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error the API answers with, in OpenAI's shape: {@code {"error":{"message","type","param","code"}}}. Thrown while
 * parsing and validating a request; the server turns it into the response.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiError(int status, String type, String message, String param, String code) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 for a bad parameter, naming it. */
    public static ApiError badParam(String param, String message) {
        return new ApiError(400, "invalid_request_error", message, param, "invalid_value");
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, "invalid_request_error", message, null, null);
    }

    public static ApiError modelNotFound(String model) {
        return new ApiError(404, "invalid_request_error", "The model '" + model + "' does not exist.", "model",
                "model_not_found");
    }

    public int status() { return status; }

    public String type() { return type; }

    public String param() { return param; }

    public String code() { return code; }

    public ObjectNode toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}

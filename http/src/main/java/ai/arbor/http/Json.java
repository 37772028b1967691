package ai.arbor.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.util.ByteString;

/** The one ObjectMapper of the HTTP layer (thread-safe once configured). */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Json() {}

    static ObjectNode object() { return F.objectNode(); }

    static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final ByteString DATA = ByteString.fromString("data: ");
    private static final ByteString END = ByteString.fromString("\n\n");
    static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

    /** One Server-Sent Event: {@code data: <json>\n\n}. */
    static ByteString sse(JsonNode node) {
        return DATA.concat(ByteString.fromArrayUnsafe(bytes(node))).concat(END);
    }
}

package ai.arbor.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * The SSE bytes of one response's common chunks, pre-serialised: everything but the choice index and its text is
 * the same in every chunk of a response, so it is encoded once per response and each token costs one array copy
 * rather than a JSON tree and a serializer pass. The output is byte for byte what Jackson writes for the same chunk
 * ({@code ChunkTemplateTest} compares them); chunks with logprobs still go through Jackson, and so does text with
 * characters outside the BMP, which Jackson writes as escaped surrogate pairs.
 */
final class ChunkTemplate {
    private static final JsonStringEncoder ENCODER = JsonStringEncoder.getInstance();
    private static final byte[] CHAT_CONTENT = ascii(",\"delta\":{\"content\":\"");
    private static final byte[] CHAT_CONTENT_END = ascii("\"},\"logprobs\":null,\"finish_reason\":null");
    private static final byte[] CHAT_FINISH = ascii(",\"delta\":{},\"logprobs\":null,\"finish_reason\":\"");
    private static final byte[] TEXT_CONTENT = ascii(",\"text\":\"");
    private static final byte[] TEXT_CONTENT_END = ascii("\",\"logprobs\":null,\"finish_reason\":null");
    private static final byte[] TEXT_FINISH = ascii(",\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"");
    private static final byte[] QUOTE = ascii("\"");
    private static final byte[] CHAT_ROLE = ascii(",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
            + "\"logprobs\":null,\"finish_reason\":null");
    private static final byte[] NOTHING = new byte[0];

    private final boolean chat;
    /** {@code data: {"id":…,"object":…,"created":…,"model":…,"choices":[{"index":} */
    private final byte[] head;
    /** {@code }]} or {@code }],"usage":null}, then the blank line that ends the event */
    private final byte[] tail;
    /** Whether id and model encode the same here as in Jackson. */
    private final boolean plain;

    ChunkTemplate(boolean chat, String id, String object, long created, String model, boolean usageNull) {
        this.chat = chat;
        this.head = concat(ascii("data: {\"id\":\""), ENCODER.quoteAsUTF8(id), ascii("\",\"object\":\""),
                ENCODER.quoteAsUTF8(object), ascii("\",\"created\":" + created + ",\"model\":\""),
                ENCODER.quoteAsUTF8(model), ascii("\",\"choices\":[{\"index\":"));
        this.tail = ascii(usageNull ? "}],\"usage\":null}\n\n" : "}]}\n\n");
        this.plain = plain(id) && plain(object) && plain(model);
    }

    /** No surrogates: JsonStringEncoder writes a pair as UTF-8, Jackson's generator as two escaped UTF-16 units. */
    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) if (Character.isSurrogate(s.charAt(i))) return false;
        return true;
    }

    /** A chunk of new text for choice {@code index}, without logprobs; null where Jackson must write it. */
    ByteString content(int index, String text) {
        if (!plain || !plain(text)) return null;
        return chunk(index, chat ? CHAT_CONTENT : TEXT_CONTENT, ENCODER.quoteAsUTF8(text),
                chat ? CHAT_CONTENT_END : TEXT_CONTENT_END);
    }

    /** Chat's first chunk of choice {@code index}: the assistant role; null where Jackson must write it. */
    ByteString role(int index) {
        if (!plain || !chat) return null;
        return chunk(index, CHAT_ROLE, NOTHING, NOTHING);
    }

    /** The chunk that ends choice {@code index} with {@code reason}; null where Jackson must write it. */
    ByteString finish(int index, String reason) {
        if (!plain || !plain(reason)) return null;
        return chunk(index, chat ? CHAT_FINISH : TEXT_FINISH, ENCODER.quoteAsUTF8(reason), QUOTE);
    }

    private ByteString chunk(int index, byte[] before, byte[] value, byte[] after) {
        return ByteString.fromArrayUnsafe(concat(head, ascii(Integer.toString(index)), before, value, after, tail));
    }

    private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.US_ASCII); }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}

package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamChunkTest {
    /** A chat stream as OpenAI and vLLM send it with stream_options.include_usage. */
    static final String CHAT_STREAM = """
            data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}

            data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":null}

            data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":8}}}

            data: [DONE]

            """;

    @Test
    void parsesACapturedChatStream() {
        List<StreamChunk> chunks = new ArrayList<>();
        for (String line : CHAT_STREAM.split("\n")) {
            StreamChunk c = StreamChunk.parseLine(line);
            if (c != null) {
                chunks.add(c);
            }
        }
        assertEquals(6, chunks.size());
        assertEquals("", chunks.get(0).content(), "the role-only first chunk carries no content");
        assertEquals("Hel", chunks.get(1).content());
        assertEquals("lo", chunks.get(2).content());
        assertEquals("length", chunks.get(3).finishReason());
        StreamChunk usage = chunks.get(4);
        assertTrue(usage.hasUsage());
        assertEquals(12, usage.promptTokens());
        assertEquals(2, usage.completionTokens());
        assertEquals(8, usage.cachedTokens());
        assertTrue(chunks.get(5).done());
    }

    @Test
    void parsesCompletionsTextAndUsageWithoutDetails() {
        StreamChunk c = StreamChunk.parseLine(
                "data: {\"choices\":[{\"index\":0,\"text\":\" world\",\"finish_reason\":null}]}");
        assertEquals(" world", c.content());
        assertTrue(!c.hasUsage());
        StreamChunk u = StreamChunk.parseLine(
                "data:{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}");
        assertEquals(5, u.promptTokens());
        assertEquals(0, u.cachedTokens());
    }

    @Test
    void inStreamErrorsAreReported() {
        StreamChunk e = StreamChunk.parseLine("data: {\"error\":{\"message\":\"engine died\",\"type\":\"server_error\"}}");
        assertEquals("engine died", e.error());
    }

    @Test
    void nonDataLinesAreSkippedAndBadJsonIsAnError() {
        assertNull(StreamChunk.parseLine(""));
        assertNull(StreamChunk.parseLine(": keep-alive"));
        assertNull(StreamChunk.parseLine("event: message"));
        assertThrows(IllegalArgumentException.class, () -> StreamChunk.parseLine("data: {not json"));
    }
}

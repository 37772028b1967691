package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.generation.GenerationEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The pre-serialised chunks are byte for byte what Jackson writes for the same chunk trees, or left to Jackson. */
class ChunkTemplateTest {
    static final List<String> TEXTS = texts();

    static List<String> texts() {
        List<String> t = new ArrayList<>(List.of("", "Hello", " world", "quote \" and \\ backslash", "tab\tnew\nline\r",
                "\u0000\u0001\u001f\u007f", "é ü ß 中文 ", "emoji 😀 pair", "</script> / slash", "\u2028\u2029"));
        Random r = new Random(7);
        for (int i = 0; i < 200; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(12); k > 0; k--) {
                int cp = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(0x80);
                    case 1 -> 0x80 + r.nextInt(0x780);
                    case 2 -> 0x800 + r.nextInt(0xD000);
                    default -> 0x10000 + r.nextInt(0x10000);
                };
                sb.appendCodePoint(cp);
            }
            t.add(sb.toString());
        }
        return t;
    }

    @Test
    void chatAndTextChunksMatchJackson() {
        for (boolean chat : new boolean[] {true, false}) {
            for (boolean usageNull : new boolean[] {true, false}) {
                OutputFormat f = chat
                        ? new OutputFormat.Chat("chatcmpl-\"x\"", 1764000000L, "Qwen/Qwen2.5 \"é\"", null, usageNull)
                        : new OutputFormat.Text("cmpl-1", 1764000000L, "tiny-qwen2", null, usageNull);
                f.useChunkTemplate();
                ChunkTemplate t = new ChunkTemplate(chat, f.id, f.chunkObject(), f.created, f.model, usageNull);
                for (String text : TEXTS) {
                    for (int index : new int[] {0, 7, 130}) {
                        var d = new GenerationEvent.Delta(index, text, new int[] {1}, null);
                        ByteString fast = t.content(index, text);
                        if (fast != null) assertEquals(Json.sse(f.delta(d)), fast, text);
                        else assertTrue(text.codePoints().anyMatch(Character::isSupplementaryCodePoint), text);
                        assertEquals(Json.sse(f.delta(d)), f.sseDelta(d), text);
                    }
                }
                List<com.fasterxml.jackson.databind.node.ObjectNode> opening = new ArrayList<>();
                f.opening(3, opening);
                List<ByteString> fastOpening = f.sseOpening(3);
                assertEquals(opening.size(), fastOpening.size());
                for (int i = 0; i < opening.size(); i++) assertEquals(Json.sse(opening.get(i)), fastOpening.get(i));
                for (String reason : List.of("stop", "length")) {
                    assertEquals(Json.sse(f.finish(3, reason)), t.finish(3, reason));
                    assertEquals(Json.sse(f.finish(3, reason)), f.sseFinish(3, reason));
                }
            }
        }
    }
}

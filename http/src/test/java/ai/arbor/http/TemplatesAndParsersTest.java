package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.tokenizer.ChatTemplate;
import ai.arbor.http.chat.ChatPiece;
import ai.arbor.http.chat.OutputRules;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real Qwen2.5, Qwen3 and Llama 3.1 chat templates against the parsers: the parser {@code auto} picks from each
 * template is the one that reads back, unchanged, the tool call the template writes into an assistant turn (the
 * messages shaped by {@link ChatMessages}, as a request carries them).
 */
class TemplatesAndParsersTest {
    static final ObjectMapper M = new ObjectMapper();
    static final Path DIR = Path.of("..", "gpu", "model", "src", "test", "resources", "templates");

    static ChatTemplate template(String file, String bos, String eos) throws Exception {
        return new ChatTemplate(Files.readString(DIR.resolve(file)), bos, eos);
    }

    static List<Map<String, Object>> conversation() throws Exception {
        return ChatMessages.parse(M.readTree("""
                [{"role": "user", "content": "Weather in Zürich?"},
                 {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                   "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Zürich\\", \\"days\\": [1, 2]}"}}]}]
                """));
    }

    /** What the parser reads from {@code assistantTurn}: the calls as name -> arguments JSON. */
    static List<String[]> calls(OutputRules.Tools tools, OutputRules.Reasoning reasoning, String assistantTurn) {
        var parser = new OutputRules(tools, null, true, reasoning, false).newParser();
        List<ChatPiece> pieces = new ArrayList<>(parser.feed(assistantTurn));
        pieces.addAll(parser.end());
        List<String[]> out = new ArrayList<>();
        for (ChatPiece p : pieces) {
            if (p instanceof ChatPiece.CallStart s) out.add(new String[] {s.name(), ""});
            else if (p instanceof ChatPiece.CallArguments a) out.get(a.call())[1] += a.fragment();
            else if (p instanceof ChatPiece.Content c) assertTrue(c.text().isBlank(), "content '" + c.text() + "'");
        }
        return out;
    }

    static void assertReadsBack(OutputRules.Tools tools, OutputRules.Reasoning reasoning, String turn) throws Exception {
        List<String[]> calls = calls(tools, reasoning, turn);
        assertEquals(1, calls.size(), turn);
        assertEquals("get_weather", calls.get(0)[0]);
        JsonNode args = M.readTree(calls.get(0)[1]);
        assertEquals(M.readTree("{\"city\": \"Zürich\", \"days\": [1, 2]}"), args);
    }

    static String between(String s, String start, String end) {
        int from = s.lastIndexOf(start) + start.length();
        int to = s.indexOf(end, from);
        return s.substring(from, to < 0 ? s.length() : to);
    }

    @Test
    void qwenTemplatesWriteHermesCalls() throws Exception {
        for (String file : List.of("qwen2.5-instruct.jinja", "qwen3.jinja")) {
            ChatTemplate t = template(file, null, "<|im_end|>");
            assertEquals(OutputRules.Tools.HERMES, ChatFormat.detect(t.source(), ""), file);
            String rendered = t.render(conversation(), false, Map.of());
            // Qwen3's template writes an empty <think></think> before the last assistant turn: its reasoning parser reads it
            OutputRules.Reasoning reasoning = file.startsWith("qwen3") ? OutputRules.Reasoning.QWEN3 : OutputRules.Reasoning.NONE;
            assertReadsBack(OutputRules.Tools.HERMES, reasoning,
                    between(rendered, "<|im_start|>assistant\n", "<|im_end|>"));
        }
    }

    @Test
    void llamaTemplateWritesJsonCalls() throws Exception {
        ChatTemplate t = template("llama-3.1-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");
        assertEquals(OutputRules.Tools.LLAMA3_JSON, ChatFormat.detect(t.source(), ""));
        String rendered = t.render(conversation(), false, Map.of());
        assertReadsBack(OutputRules.Tools.LLAMA3_JSON, OutputRules.Reasoning.NONE,
                between(rendered, "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"));
    }

    @Test
    void templatesWithoutCallsFallBackToTheArchitecture() throws Exception {
        ChatTemplate tiny = template("tiny-chatml.jinja", null, "<|im_end|>");
        assertEquals(OutputRules.Tools.HERMES, ChatFormat.detect(tiny.source(), "Qwen2ForCausalLM"));
        assertEquals(OutputRules.Tools.LLAMA3_JSON, ChatFormat.detect(tiny.source(), "LlamaForCausalLM"));
        assertEquals(OutputRules.Tools.NONE, ChatFormat.detect(null, ""));
    }
}

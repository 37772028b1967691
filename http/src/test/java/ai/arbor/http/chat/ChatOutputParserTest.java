package ai.arbor.http.chat;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.http.chat.OutputRules.Reasoning;
import ai.arbor.http.chat.OutputRules.Tools;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The output parsers on model-shaped text, fed whole, one character at a time and in random splits: every way of
 * cutting the text must give the same message, and a call's name must come before its arguments.
 */
class ChatOutputParserTest {
    static final ObjectMapper M = new ObjectMapper();

    record Message(String reasoning, String content, List<String> names, List<String> arguments) {}

    static OutputRules rules(Tools tools, Reasoning reasoning) {
        return new OutputRules(tools, tools == Tools.NAMED ? "get_weather" : null, true, reasoning, false);
    }

    /** Parses {@code text} cut into pieces at {@code cuts}, assembling the message as the SDK would. */
    static Message parse(OutputRules rules, String text, List<Integer> cuts) {
        ChatOutputParser p = rules.newParser();
        List<ChatPiece> pieces = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            pieces.addAll(p.feed(text.substring(from, cut)));
            from = cut;
        }
        pieces.addAll(p.feed(text.substring(from)));
        pieces.addAll(p.end());
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        List<String> names = new ArrayList<>();
        List<StringBuilder> args = new ArrayList<>();
        for (ChatPiece piece : pieces) {
            if (piece instanceof ChatPiece.Reasoning r) reasoning.append(r.text());
            else if (piece instanceof ChatPiece.Content c) content.append(c.text());
            else if (piece instanceof ChatPiece.CallStart s) {
                assertEquals(names.size(), s.call(), "calls are announced in order");
                names.add(s.name());
                args.add(new StringBuilder());
            } else if (piece instanceof ChatPiece.CallArguments a) {
                assertTrue(a.call() < names.size(), "arguments of call " + a.call() + " before its name");
                args.get(a.call()).append(a.fragment());
            }
        }
        return new Message(reasoning.toString(), content.toString(), names,
                args.stream().map(StringBuilder::toString).toList());
    }

    /** The same message however the text is cut. */
    static Message parseAllWays(OutputRules rules, String text) {
        Message whole = parse(rules, text, List.of());
        List<Integer> every = new ArrayList<>();
        for (int i = 1; i < text.length(); i++) every.add(i);
        assertEquals(whole, parse(rules, text, every), "one character at a time");
        Random random = new Random(42);
        for (int trial = 0; trial < 50; trial++) {
            List<Integer> cuts = new ArrayList<>();
            for (int i = 1; i < text.length(); i++) if (random.nextInt(4) == 0) cuts.add(i);
            assertEquals(whole, parse(rules, text, cuts), "cuts " + cuts);
        }
        return whole;
    }

    static void assertJson(String expected, String actual) throws Exception {
        assertEquals(M.readTree(expected), M.readTree(actual), actual);
    }

    @Test
    void hermesCallsWithContentBefore() throws Exception {
        String text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par}is\", "
                + "\"days\": [1, {\"x\": \"\\\"}\"}]}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}"
                + "\n</tool_call>";
        Message m = parseAllWays(rules(Tools.HERMES, Reasoning.NONE), text);
        assertEquals("Let me check.\n", m.content());
        assertEquals(List.of("get_weather", "get_time"), m.names());
        assertJson("{\"city\": \"Par}is\", \"days\": [1, {\"x\": \"\\\"}\"}]}", m.arguments().get(0));
        assertJson("{}", m.arguments().get(1));
    }

    @Test
    void hermesBlockThatIsNoCallStaysContent() {
        String text = "a <tool_call>not json</tool_call> b";
        Message m = parseAllWays(rules(Tools.HERMES, Reasoning.NONE), text);
        assertEquals(text, m.content());
        assertTrue(m.names().isEmpty());
        Message partial = parseAllWays(rules(Tools.HERMES, Reasoning.NONE), "x <tool_c");
        assertEquals("x <tool_c", partial.content(), "a tag that never completes is content");
    }

    @Test
    void hermesCallCutShortKeepsItsName() {
        Message m = parseAllWays(rules(Tools.HERMES, Reasoning.NONE),
                "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa");
        assertEquals(List.of("get_weather"), m.names());
        assertEquals("{\"city\": \"Pa", m.arguments().get(0));
        assertEquals("", m.content());
    }

    @Test
    void keysInAnotherOrderAreReadWhole() throws Exception {
        Message m = parseAllWays(rules(Tools.HERMES, Reasoning.NONE),
                "<tool_call>{\"arguments\": {\"a\": 1}, \"name\": \"f\"}</tool_call>");
        assertEquals(List.of("f"), m.names());
        assertJson("{\"a\": 1}", m.arguments().get(0));
    }

    @Test
    void llamaJsonCalls() throws Exception {
        Message m = parseAllWays(rules(Tools.LLAMA3_JSON, Reasoning.NONE),
                "<|python_tag|>{\"name\": \"f\", \"parameters\": {\"a\": \"{;}\"}}; {\"name\": \"g\", \"parameters\": {}}");
        assertEquals(List.of("f", "g"), m.names());
        assertJson("{\"a\": \"{;}\"}", m.arguments().get(0));
        Message plain = parseAllWays(rules(Tools.LLAMA3_JSON, Reasoning.NONE), "The answer is {\"name\": 1}");
        assertEquals("The answer is {\"name\": 1}", plain.content(), "text that does not start with a call is content");
        assertTrue(plain.names().isEmpty());
    }

    @Test
    void requiredArray() throws Exception {
        Message m = parseAllWays(rules(Tools.REQUIRED, Reasoning.NONE),
                "[{\"name\": \"f\", \"parameters\": {\"x\": [1, 2]}}, {\"name\": \"g\", \"parameters\": {\"y\": null}}]");
        assertEquals(List.of("f", "g"), m.names());
        assertJson("{\"x\": [1, 2]}", m.arguments().get(0));
        assertJson("{\"y\": null}", m.arguments().get(1));
        assertEquals("", m.content());
    }

    @Test
    void namedFunctionTakesTheWholeOutput() throws Exception {
        Message m = parseAllWays(rules(Tools.NAMED, Reasoning.NONE), "{\"city\": \"Oslo\"}");
        assertEquals(List.of("get_weather"), m.names());
        assertJson("{\"city\": \"Oslo\"}", m.arguments().get(0));
    }

    @Test
    void parallelCallsOffKeepsTheFirst() {
        OutputRules one = new OutputRules(Tools.HERMES, null, false, Reasoning.NONE, false);
        Message m = parseAllWays(one, "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>"
                + "<tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>");
        assertEquals(List.of("f"), m.names());
    }

    @Test
    void qwen3Reasoning() {
        Message m = parseAllWays(rules(Tools.NONE, Reasoning.QWEN3), "<think>\nThe user greets me.\n</think>\n\nHello!");
        assertEquals("\nThe user greets me.\n", m.reasoning());
        assertEquals("\n\nHello!", m.content());
        Message none = parseAllWays(rules(Tools.NONE, Reasoning.QWEN3), "Hello </think> there");
        assertEquals("", none.reasoning(), "qwen3 output that opens no <think> is content");
        assertEquals("Hello </think> there", none.content());
        Message open = parseAllWays(new OutputRules(Tools.NONE, null, true, Reasoning.QWEN3, true), "hmm</think>ok");
        assertEquals("hmm", open.reasoning(), "the prompt opened the reasoning");
        assertEquals("ok", open.content());
    }

    @Test
    void deepseekR1IsReasoningUntilItCloses() {
        Message m = parseAllWays(rules(Tools.NONE, Reasoning.DEEPSEEK_R1), "still thinking <th");
        assertEquals("still thinking <th", m.reasoning());
        assertEquals("", m.content());
    }

    @Test
    void reasoningThenToolCall() throws Exception {
        Message m = parseAllWays(rules(Tools.HERMES, Reasoning.QWEN3),
                "<think>need weather</think>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>");
        assertEquals("need weather", m.reasoning());
        assertEquals("\n", m.content());
        assertEquals(List.of("get_weather"), m.names());
        assertJson("{\"city\": \"Rome\"}", m.arguments().get(0));
    }
}

package ai.arbor.gpu.tokenizer;

import ai.arbor.gpu.model.TestCheckpoints;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class IncrementalDetokenizerTest {
    static HfTokenizer tok;

    @BeforeAll
    static void load() { tok = HfTokenizer.load(TestCheckpoints.tokenizerDir("bytelevel-chatml")); }

    @AfterAll
    static void close() { tok.close(); }

    /** Streams {@code output} token by token after {@code prompt}; checks every delta and the concatenation. */
    private List<String> stream(int[] prompt, int[] output, boolean skipSpecial) {
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, prompt, skipSpecial);
        List<String> deltas = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (int id : output) {
            String delta = d.push(id);
            assertFalse(delta.contains("\uFFFD"), "half a character leaked mid-stream: " + deltas + " + " + delta);
            deltas.add(delta);
            all.append(delta);
        }
        all.append(d.flush());
        assertEquals(tok.decode(output, skipSpecial), all.toString(), "streamed text equals a full decode");
        assertEquals(all.toString(), d.text());
        return deltas;
    }

    @Test
    void multiByteCharactersSplitAcrossTokens() {
        String text = "Emoji 🙂👍🏽 and CJK 你好，世界！ 日本語 mixed with Grüße.";
        int[] ids = tok.encodeNoSpecial(text);
        int splits = 0;
        for (int id : ids) if (tok.decode(new int[]{id}, false).contains("\uFFFD")) splits++;
        assertTrue(splits > 4, "the test text must split characters across tokens: " + splits);
        List<String> deltas = stream(tok.encode("Say hi:"), ids, true);
        assertTrue(deltas.contains(""), "some tokens complete no character and are held back");
        assertEquals(text, String.join("", deltas));
    }

    @Test
    void withoutPromptContextAndWithSpecialTokens() {
        String text = "<|im_start|>assistant\nHello 世界 🙂<|im_end|>";
        int[] ids = tok.encodeNoSpecial(text);
        stream(new int[0], ids, true);
        List<String> raw = stream(new int[0], ids, false);
        assertEquals(text, String.join("", raw));
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[0]);
        assertEquals("", d.push(tok.tokenId("<|im_end|>").getAsInt()), "special tokens skipped by default");
    }

    @Test
    void incompleteCharacterAtTheEndFlushesLikeFullDecode() {
        int[] ids = tok.encodeNoSpecial("ok 🙂");
        int[] cut = Arrays.copyOf(ids, ids.length - 1); // the emoji is several byte tokens: drop the last one
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[0]);
        StringBuilder sb = new StringBuilder();
        for (int id : cut) sb.append(d.push(id));
        assertEquals("ok", sb.toString().trim());
        sb.append(d.flush());
        assertEquals(tok.decode(cut, true), sb.toString());
        assertTrue(sb.toString().endsWith("\uFFFD"));
    }

    @Test
    void randomMixedTextStreamsLikeFullDecode() {
        String[] pieces = {"a", "the ", " ", "\n", "你", "好", "世界", "🙂", "👍🏽", "é", "ß", "日本", "—", "∑", "\t", "<|im_end|>",
                "<|im_start|>", "fox", "42", "!"};
        java.util.Random r = new java.util.Random(7);
        for (int n = 0; n < 150; n++) {
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(20); k >= 0; k--) sb.append(pieces[r.nextInt(pieces.length)]);
            int[] ids = tok.encodeNoSpecial(sb.toString());
            // Part of it as the prompt, cut where the prompt decodes to whole characters, as any tokenized text does.
            int cut = r.nextInt(ids.length + 1);
            while (cut > 0 && tok.decode(Arrays.copyOf(ids, cut), false).endsWith("\uFFFD")) cut--;
            stream(Arrays.copyOf(ids, cut), Arrays.copyOfRange(ids, cut, ids.length), r.nextBoolean());
        }
    }

    @Test
    void longOutputDecodesASmallWindowPerToken() {
        String text = "The quick brown fox jumps over the lazy dog. 你好，世界！🙂 ".repeat(300);
        int[] ids = tok.encodeNoSpecial(text);
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[]{1, 2, 3, 4, 5, 6, 7});
        StringBuilder sb = new StringBuilder();
        int widest = 0;
        for (int id : ids) {
            widest = Math.max(widest, d.decodeWindow());
            sb.append(d.push(id));
        }
        sb.append(d.flush());
        assertEquals(tok.decode(ids, true), sb.toString());
        // a window is the context tokens plus at most one held-back multi-byte character
        assertTrue(widest <= IncrementalDetokenizer.CONTEXT_TOKENS + 8, "decode window grew to " + widest + " tokens");
    }
}

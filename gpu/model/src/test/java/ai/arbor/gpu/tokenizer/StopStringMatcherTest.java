package ai.arbor.gpu.tokenizer;

import ai.arbor.gpu.model.TestCheckpoints;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StopStringMatcherTest {

    /** Feeds deltas; returns everything emitted, and the match if any. */
    private static String[] run(StopStringMatcher m, String... deltas) {
        StringBuilder out = new StringBuilder();
        for (String d : deltas) {
            StopStringMatcher.Result r = m.push(d);
            out.append(r.text());
            if (r.stopped()) return new String[]{out.toString(), r.matched()};
        }
        out.append(m.flush());
        return new String[]{out.toString(), null};
    }

    @Test
    void matchAcrossDeltasExcludesTheStopString() {
        StopStringMatcher m = new StopStringMatcher(List.of("\nUser:"));
        assertEquals("Hello", m.push("Hello").text());
        StopStringMatcher.Result r = m.push(" there\nUs");
        assertEquals(" there", r.text(), "'\\nUs' may start the stop string: held back");
        assertFalse(r.stopped());
        r = m.push("er: more");
        assertTrue(r.stopped());
        assertEquals("\nUser:", r.matched());
        assertEquals("", r.text());
        assertThrows(IllegalStateException.class, () -> m.push("x"));
    }

    @Test
    void falseStartIsReleased() {
        StopStringMatcher m = new StopStringMatcher(List.of("STOP"));
        assertEquals("a ", m.push("a ST").text());
        assertEquals("STOP", "STOP");
        StopStringMatcher.Result r = m.push("ONE");
        assertFalse(r.stopped());
        assertEquals("STONE", r.text());
        assertEquals("", m.flush());
    }

    @Test
    void heldTextFlushedAtEnd() {
        String[] r = run(new StopStringMatcher(List.of("###")), "result #", "#");
        assertNull(r[1]);
        assertEquals("result ##", r[0]);
    }

    @Test
    void earliestMatchWins() {
        String[] r = run(new StopStringMatcher(List.of("world", "lo w")), "hello world");
        assertEquals("hel", r[0]);
        assertEquals("lo w", r[1]);
        r = run(new StopStringMatcher(List.of("ab", "abc")), "xxabcd");
        assertEquals("xx", r[0]);
        assertEquals("abc", r[1], "at one position the longer stop string");
    }

    @Test
    void textBeforeTheMatchInTheSameDelta() {
        String[] r = run(new StopStringMatcher(List.of("</s>")), "The end.</s> ignored");
        assertArrayEquals(new String[]{"The end.", "</s>"}, r);
        r = run(new StopStringMatcher(List.of("</s>"), true), "The end.</s> ignored");
        assertArrayEquals(new String[]{"The end.</s>", "</s>"}, r, "include_stop_str_in_output");
    }

    @Test
    void noStopStringsPassThrough() {
        StopStringMatcher m = new StopStringMatcher(List.of("", ""));
        assertTrue(m.isEmpty());
        assertEquals("abc", m.push("abc").text());
    }

    @Test
    void anyChunkingGivesTheSameResult() {
        java.util.Random r = new java.util.Random(11);
        String alphabet = "ab c\n🙂";
        for (int n = 0; n < 500; n++) {
            StringBuilder text = new StringBuilder();
            for (int k = r.nextInt(30); k >= 0; k--) text.append(alphabet.charAt(r.nextInt(alphabet.length())));
            String stop = n % 2 == 0 ? "ab" : "c\nb";
            String[] chunks = chunk(text.toString(), r);
            String[] got = run(new StopStringMatcher(List.of(stop)), chunks);
            int at = text.indexOf(stop);
            assertEquals(at < 0 ? text.toString() : text.substring(0, at), got[0], text + " in " + List.of(chunks));
            assertEquals(at < 0 ? null : stop, got[1]);

            List<String> stops = List.of("ba", "b c", "\n\n");
            got = run(new StopStringMatcher(stops), chunk(text.toString(), r));
            assertTrue(text.toString().startsWith(got[0]));
            for (String s : stops) assertFalse(got[0].contains(s), "a stop string leaked: " + got[0]);
            if (got[1] != null) assertTrue(text.toString().startsWith(got[0] + got[1]));
            else assertEquals(text.toString(), got[0]);
        }
    }

    private static String[] chunk(String text, java.util.Random r) {
        List<String> out = new java.util.ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int j = Math.min(text.length(), i + 1 + r.nextInt(4));
            if (j < text.length() && Character.isLowSurrogate(text.charAt(j))) j++; // deltas hold whole characters
            out.add(text.substring(i, j));
            i = j;
        }
        return out.toArray(new String[0]);
    }

    @Test
    void stopStringsAcrossTokenBoundaries() {
        try (HfTokenizer tok = HfTokenizer.load(TestCheckpoints.tokenizerDir("bytelevel-chatml"))) {
            String text = "Sure! 你好世界 is hello world. Then the fox said: 🙂 done";
            int[] ids = tok.encodeNoSpecial(text);
            for (String stop : List.of("好世", "fox said", "🙂", "done", ". Th")) {
                IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[0]);
                StopStringMatcher m = new StopStringMatcher(List.of(stop));
                StringBuilder out = new StringBuilder();
                String matched = null;
                for (int id : ids) {
                    StopStringMatcher.Result r = m.push(d.push(id));
                    out.append(r.text());
                    assertFalse(out.toString().contains(stop), "the stop string is never emitted");
                    if (r.stopped()) {
                        matched = r.matched();
                        break;
                    }
                }
                assertEquals(stop, matched);
                assertEquals(text.substring(0, text.indexOf(stop)), out.toString());
            }
        }
    }
}

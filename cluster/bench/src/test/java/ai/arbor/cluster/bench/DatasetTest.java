package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetTest {
    private final WordTokenizer tok = new WordTokenizer();

    @Test
    void randomPromptsHaveTheTargetLengthAndDiffer() {
        List<BenchPrompt> prompts = new RandomDataset(tok, 20, 37, 9, 3).prompts();
        assertEquals(20, prompts.size());
        Set<String> texts = new HashSet<>();
        for (BenchPrompt p : prompts) {
            assertEquals(37, p.tokenIds().length);
            assertEquals(37, tok.encode(p.text()).length, "the text re-encodes to the same length");
            assertArrayEquals(p.tokenIds(), tok.encode(p.text()));
            assertEquals(9, p.outputLen());
            for (int id : p.tokenIds()) {
                assertTrue(tok.isOrdinary(id), "no special tokens in random prompts");
            }
            texts.add(p.text());
        }
        assertEquals(20, texts.size());
        assertEquals(prompts.get(5).text(), new RandomDataset(tok, 20, 37, 9, 3).prompts().get(5).text(),
                "the seed fixes the prompts");
    }

    @Test
    void sharedPrefixGroupsShareExactlyTheirPrefix() {
        int groups = 3, per = 5, prefix = 40, suffix = 10;
        List<BenchPrompt> prompts = new SharedPrefixDataset(tok, groups, per, prefix, suffix, 4, 11).prompts();
        assertEquals(groups * per, prompts.size());
        Map<Integer, int[]> prefixes = new HashMap<>();
        Map<Integer, Integer> counts = new HashMap<>();
        Set<String> suffixes = new HashSet<>();
        for (BenchPrompt p : prompts) {
            assertEquals(prefix + suffix, p.tokenIds().length);
            int[] head = Arrays.copyOf(p.tokenIds(), prefix);
            int[] seen = prefixes.putIfAbsent(p.group(), head);
            if (seen != null) {
                assertArrayEquals(seen, head, "every prompt of a group starts with the group's prefix");
            }
            counts.merge(p.group(), 1, Integer::sum);
            suffixes.add(Arrays.toString(Arrays.copyOfRange(p.tokenIds(), prefix, prefix + suffix)));
            assertTrue(p.text().startsWith(tok.decode(head)));
        }
        assertEquals(groups, prefixes.size());
        counts.values().forEach(c -> assertEquals(per, c));
        assertEquals(groups * per, suffixes.size(), "suffixes are unique");
        assertNotEquals(Arrays.toString(prefixes.get(0)), Arrays.toString(prefixes.get(1)));
        // Shuffled: the first `per` prompts are not all one group.
        assertTrue(prompts.subList(0, per).stream().map(BenchPrompt::group).distinct().count() > 1);
    }

    @Test
    void fileDatasetReadsPromptsMessagesAndShareGpt(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.jsonl");
        Files.writeString(f, """
                {"prompt": "Tell me a story", "output_len": 7}

                {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
                {"conversations": [{"from": "human", "value": "what is 2+2"}, {"from": "gpt", "value": "4"}]}
                """);
        List<BenchPrompt> prompts = new FileDataset(f, 5, 16).prompts();
        assertEquals(5, prompts.size(), "the file is cycled to the number asked for");
        assertEquals("Tell me a story", prompts.get(0).text());
        assertEquals(7, prompts.get(0).outputLen());
        assertEquals(16, prompts.get(1).outputLen());
        assertEquals(2, prompts.get(1).messages().size(), "the trailing assistant turn is dropped");
        assertEquals("hi", prompts.get(1).messages().get(1).get("content"));
        assertEquals(List.of(Map.of("role", "user", "content", "what is 2+2")), prompts.get(2).messages());
        assertEquals("Tell me a story", prompts.get(3).text());
    }

    @Test
    void fileDatasetErrorsNameTheLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"prompt\": \"ok\"}\n{\"foo\": 1}\n");
        BenchException e = assertThrows(BenchException.class, () -> new FileDataset(f, 2, 1).prompts());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        Files.writeString(f, "{oops\n");
        e = assertThrows(BenchException.class, () -> new FileDataset(f, 2, 1).prompts());
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("not JSON"), e.getMessage());
        e = assertThrows(BenchException.class, () -> new FileDataset(dir.resolve("none.jsonl"), 2, 1).prompts());
        assertTrue(e.getMessage().startsWith("dataset file not found"), e.getMessage());
    }
}

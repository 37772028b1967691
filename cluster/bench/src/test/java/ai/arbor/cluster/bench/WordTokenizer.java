package ai.arbor.cluster.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A whitespace word tokenizer over a made-up vocabulary: exact lengths, for tests of the dataset shapes. */
final class WordTokenizer implements PromptTokenizer {
    private static final String[] SYLLABLES = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa"};

    private final List<String> words = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();

    WordTokenizer() {
        words.add("<|special|>");
        for (String a : SYLLABLES) {
            for (String b : SYLLABLES) {
                for (String c : SYLLABLES) {
                    words.add(a + b + c);
                }
            }
        }
        for (int i = 0; i < words.size(); i++) {
            ids.put(words.get(i), i);
        }
    }

    @Override
    public int[] encode(String text) {
        return text.isBlank() ? new int[0]
                : java.util.Arrays.stream(text.strip().split("\\s+")).mapToInt(w -> {
                    Integer id = ids.get(w);
                    if (id == null) {
                        throw new IllegalArgumentException("unknown word " + w);
                    }
                    return id;
                }).toArray();
    }

    @Override
    public String decode(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) {
            sb.append(' ').append(words.get(id));
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() { return words.size(); }

    @Override
    public boolean isOrdinary(int id) { return id != 0; }
}

package ai.arbor.http;

import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.actors.frontend.TextDecoder;
import ai.arbor.actors.synthetic.ByteTokenizer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** The byte tokenizer, counting the characters it was given to encode: a test sees whether tokenizing ran. */
final class CountingTokenizer implements ModelTokenizer {
    private final ByteTokenizer tok = new ByteTokenizer();
    final AtomicLong encodedChars = new AtomicLong();

    @Override
    public int[] encodePrompt(String text) {
        encodedChars.addAndGet(text.length());
        return tok.encodePrompt(text);
    }

    @Override
    public int[] encodeChat(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> vars) {
        for (Map<String, Object> m : messages) encodedChars.addAndGet(String.valueOf(m.get("content")).length());
        return tok.encodeChat(messages, addGenerationPrompt, vars);
    }

    @Override
    public TextDecoder newDecoder(int[] promptTokenIds) { return tok.newDecoder(promptTokenIds); }

    @Override
    public String tokenText(int tokenId) { return tok.tokenText(tokenId); }

    @Override
    public int vocabSize() { return tok.vocabSize(); }

    @Override
    public int[] eosTokenIds() { return tok.eosTokenIds(); }

    @Override
    public int[] encodeNoSpecial(String text) {
        encodedChars.addAndGet(text.length());
        return tok.encodeNoSpecial(text);
    }

    @Override
    public String decode(int[] tokenIds) { return tok.decode(tokenIds); }
}

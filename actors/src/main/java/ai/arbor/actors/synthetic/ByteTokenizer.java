package ai.arbor.actors.synthetic;

import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.actors.frontend.TextDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer with one token per UTF-8 byte (id = byte + 3; 0 BOS, 1 EOS, 2 PAD) and a plain-text chat template, for
 * the synthetic engine: no model files needed, and every text round-trips exactly.
 */
public final class ByteTokenizer implements ModelTokenizer {
    public static final int EOS = 1;
    private static final int OFFSET = 3;

    @Override
    public int[] encodePrompt(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = (b[i] & 0xFF) + OFFSET;
        return ids;
    }

    @Override
    public int[] encodeChat(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> vars) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) {
            sb.append('<').append(m.get("role")).append(">").append(m.getOrDefault("content", "")).append('\n');
        }
        if (addGenerationPrompt) sb.append("<assistant>");
        return encodePrompt(sb.toString());
    }

    @Override
    public TextDecoder newDecoder(int[] promptTokenIds) {
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        return new TextDecoder() {
            @Override
            public String next(int id) {
                if (id < OFFSET || id >= OFFSET + 256) return "";
                pending.write(id - OFFSET);
                byte[] b = pending.toByteArray();
                int complete = completeLength(b);
                if (complete == 0) return "";
                String s = new String(b, 0, complete, StandardCharsets.UTF_8);
                pending.reset();
                pending.write(b, complete, b.length - complete);
                return s;
            }

            @Override
            public String flush() {
                String s = new String(pending.toByteArray(), StandardCharsets.UTF_8);
                pending.reset();
                return s;
            }
        };
    }

    /** Length of the longest prefix that ends on a character boundary. */
    private static int completeLength(byte[] b) {
        int i = b.length - 1;
        int back = 0;
        while (i >= 0 && (b[i] & 0xC0) == 0x80 && back < 3) { i--; back++; }
        if (i < 0) return b.length;
        int lead = b[i] & 0xFF;
        int need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return back + 1 >= need ? b.length : i;
    }

    @Override
    public String tokenText(int tokenId) {
        if (tokenId == 0) return "<bos>";
        if (tokenId == EOS) return "<eos>";
        if (tokenId < OFFSET || tokenId >= OFFSET + 256) return "<unk>";
        int b = tokenId - OFFSET;
        return b < 0x80 ? String.valueOf((char) b) : "bytes:\\x" + Integer.toHexString(b);
    }

    @Override
    public int vocabSize() { return OFFSET + 256; }

    @Override
    public int[] eosTokenIds() { return new int[] {EOS}; }

    @Override
    public int[] encodeNoSpecial(String text) { return encodePrompt(text); }

    @Override
    public String decode(int[] tokenIds) {
        TextDecoder d = newDecoder(new int[0]);
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) sb.append(d.next(id));
        return sb.append(d.flush()).toString();
    }
}

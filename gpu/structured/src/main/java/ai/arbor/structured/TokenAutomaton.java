package ai.arbor.structured;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A character automaton lifted to a vocabulary: for each state, the mask of tokens whose bytes keep the text
 * completable, built lazily by walking the token trie and cached per state. States are longs: the character state in
 * the low 32 bits and, while a token has ended inside a multi-byte UTF-8 character, the bytes still expected (bits
 * 32-33) and the code point bits read so far (bits 34 up). Masks are xgrammar's layout: {@code ceil(width/32)} ints,
 * bit {@code t % 32} of word {@code t / 32} set when token t is allowed; EOS is allowed only in accepting states.
 */
final class TokenAutomaton {
    static final long DEAD = -1;

    private final CharDfa dfa;
    private final TokenVocabulary vocab;
    private final TokenTrie trie;
    private final int width;
    private final int[] eos;
    private final ConcurrentHashMap<Long, int[]> masks = new ConcurrentHashMap<>();

    TokenAutomaton(CharDfa dfa, TokenVocabulary vocab, int width, int[] eos) {
        this.dfa = dfa;
        this.vocab = vocab;
        this.trie = vocab.trie();
        this.width = width;
        this.eos = eos.clone();
    }

    long initial() { return 0; }

    int width() { return width; }

    boolean isEos(int token) {
        for (int e : eos) if (e == token) return true;
        return false;
    }

    /** True when the text so far is complete (no partial character) and matches. */
    boolean isAccepting(long s) { return s >>> 32 == 0 && dfa.isAccept((int) s); }

    /** True when the text so far matches and nothing may follow it. */
    boolean isFinal(long s) { return isAccepting(s) && dfa.isFinal((int) s); }

    /** The allowed tokens in state s; shared, never to be written. */
    int[] mask(long s) { return masks.computeIfAbsent(s, this::computeMask); }

    int cachedMasks() { return masks.size(); }

    /** The state after token t, or {@link #DEAD} when t is not allowed (EOS included: it ends, never advances). */
    long advance(long s, int token) {
        byte[] b = vocab.bytes(token);
        if (b == null || b.length == 0) return DEAD;
        for (int k = 0; k < b.length && s != DEAD; k++) s = stepByte(s, b[k] & 0xFF);
        return s;
    }

    private int[] computeMask(long s) {
        int[] words = new int[(width + 31) >>> 5];
        int[] cur = new int[trie.maxDepth + 1];
        long[] state = new long[trie.maxDepth + 1];
        int depth = 0;
        state[0] = s;
        cur[0] = trie.firstChild[0];
        while (depth >= 0) {
            int n = cur[depth];
            if (n < 0) {
                depth--;
                continue;
            }
            cur[depth] = trie.nextSibling[n];
            long t = stepByte(state[depth], trie.label[n] & 0xFF);
            if (t == DEAD) continue;
            for (int tok = trie.tokenAt[n]; tok >= 0; tok = trie.nextToken[tok]) {
                if (tok < width) words[tok >>> 5] |= 1 << (tok & 31);
            }
            if (trie.firstChild[n] >= 0) {
                depth++;
                state[depth] = t;
                cur[depth] = trie.firstChild[n];
            }
        }
        if (isAccepting(s)) {
            for (int e : eos) if (e >= 0 && e < width) words[e >>> 5] |= 1 << (e & 31);
        }
        return words;
    }

    /** One byte of UTF-8 text against the character automaton; partial characters are kept only while completable. */
    long stepByte(long s, int b) {
        int q = (int) s;
        int rem = (int) (s >>> 32) & 3;
        int cp = (int) (s >>> 34);
        if (rem == 0) {
            if (b < 0x80) return dfa.step(q, (char) b);
            if (b >= 0xC2 && b <= 0xDF) return partial(q, 1, b & 0x1F);
            if (b >= 0xE0 && b <= 0xEF) return partial(q, 2, b & 0x0F);
            if (b >= 0xF0 && b <= 0xF4) return partial(q, 3, b & 0x07);
            return DEAD;
        }
        if ((b & 0xC0) != 0x80) return DEAD;
        // Second byte of a 3- or 4-byte character: rule out overlong forms, surrogates and code points past U+10FFFF.
        if (rem == 2 && cp == 0 && b < 0xA0) return DEAD;
        if (rem == 2 && cp == 0xD && b >= 0xA0) return DEAD;
        if (rem == 3 && cp == 0 && b < 0x90) return DEAD;
        if (rem == 3 && cp == 4 && b >= 0x90) return DEAD;
        cp = (cp << 6) | (b & 0x3F);
        rem--;
        if (rem > 0) return partial(q, rem, cp);
        if (cp < 0x10000) return dfa.step(q, (char) cp);
        int v = cp - 0x10000;
        int mid = dfa.step(q, (char) (0xD800 + (v >>> 10)));
        return mid < 0 ? DEAD : dfa.step(mid, (char) (0xDC00 + (v & 0x3FF)));
    }

    /** The state inside a character, if some completion of it leads on from q. */
    private long partial(int q, int rem, int cp) {
        long lo = (long) cp << (6 * rem);
        long hi = lo | ((1L << (6 * rem)) - 1);
        boolean viable;
        if (hi < 0x10000) {
            if (rem == 2) lo = Math.max(lo, 0x800);  // E0: three-byte forms start at U+0800
            // Surrogate code points are not characters: test the ranges on either side of them.
            viable = (lo <= Math.min(hi, 0xD7FF) && dfa.anyIn(q, (int) lo, (int) Math.min(hi, 0xD7FF)))
                    || (Math.max(lo, 0xE000) <= hi && dfa.anyIn(q, (int) Math.max(lo, 0xE000), (int) hi));
        } else {
            lo = Math.max(lo, 0x10000);
            hi = Math.min(hi, 0x10FFFF);
            viable = lo <= hi && dfa.anyPairIn(q, 0xD800 + (int) ((lo - 0x10000) >>> 10), 0xD800 + (int) ((hi - 0x10000) >>> 10));
        }
        return viable ? (q & 0xFFFFFFFFL) | ((long) rem << 32) | ((long) cp << 34) : DEAD;
    }
}

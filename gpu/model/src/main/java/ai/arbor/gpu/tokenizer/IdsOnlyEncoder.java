package ai.arbor.gpu.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Token ids of a text, straight from DJL's native encoder. DJL's {@code encode} copies every field of the Rust
 * encoding into Java (tokens as strings, offsets as objects, masks, word ids: a JNI call and allocations per field and
 * token), about 80 µs for a short chat prompt, of which the ids are all a server needs. This does what DJL's
 * {@code encode} does up to the ids: its own text preparation (prefix space, lower-casing, accent stripping, as the
 * tokenizer was configured), the native encode, the ids, freeing the encoding. If that preparation cannot be reached
 * (another DJL version), it falls back to DJL's {@code encode}.
 */
final class IdsOnlyEncoder {
    /** DJL's private {@code String prepareForTokenization(String)}; null when not found. */
    private static final MethodHandle PREPARE = prepare();

    private IdsOnlyEncoder() {}

    private static MethodHandle prepare() {
        try {
            return MethodHandles.privateLookupIn(HuggingFaceTokenizer.class, MethodHandles.lookup())
                    .findVirtual(HuggingFaceTokenizer.class, "prepareForTokenization",
                            MethodType.methodType(String.class, String.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** Whether the fast path is in use (tests check that it is). */
    static boolean direct() { return PREPARE != null; }

    /** The ids DJL's {@code encode(text, addSpecialTokens, false).getIds()} returns. */
    static int[] encode(HuggingFaceTokenizer tokenizer, String text, boolean addSpecialTokens) {
        if (PREPARE == null) return toInts(tokenizer.encode(text, addSpecialTokens, false).getIds());
        String prepared;
        try {
            prepared = (String) PREPARE.invokeExact(tokenizer, text);
        } catch (Throwable t) {
            throw new IllegalStateException("DJL's text preparation failed", t);
        }
        long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), prepared, addSpecialTokens);
        try {
            return toInts(TokenizersLibrary.LIB.getTokenIds(encoding));
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }
}

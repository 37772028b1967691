package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
/**
 * What a device sampler needs to pick one sequence's next token: the request's parameters, the (seed, step) its
 * random draw comes from, tokens that may not be picked now, and an optional allowed-token mask.
 *
 * @param sequenceId  the request id: device-side state (penalty token counts) is kept per sequence under it
 * @param seed        the request's seed (its own, or one drawn when it arrived)
 * @param step        output tokens so far: the Philox counter, so a draw depends on (seed, step) only
 * @param suppressed  token ids banned this step (EOS and stop tokens before {@code min_tokens}); may be empty
 * @param tokenMask   allowed tokens as bits ({@code ceil(vocab / 32)} int words, bit set = allowed), or null for all
 * @param tokens      the sequence (prompt, then output): read once, when a sequence with penalties is first seen
 */
public record SamplingRow(String sequenceId, SamplingParams params, long seed, int step, int[] suppressed,
                          int[] tokenMask, int[] tokens, int promptLength, int numTokens) {

    /** Penalties need per-sequence token counts on the device. */
    public boolean hasPenalties() { return Penalties.any(params); }

    /** True when the pick is the plain argmax of the raw logits: nothing to mask, bias, penalize or report. */
    public boolean isPlainArgmax() {
        return Sampler.isPlainArgmax(params) && suppressed.length == 0 && tokenMask == null
                && !params.hasLogitBias();
    }

    /** Whether bit {@code token} of a mask is set (a null mask allows every token). */
    public static boolean allowed(int[] mask, int token) {
        return mask == null || (mask[token >>> 5] & (1 << (token & 31))) != 0;
    }
}

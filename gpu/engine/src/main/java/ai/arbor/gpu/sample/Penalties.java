package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.SamplingParams;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * vLLM's (and OpenAI's) penalties, applied to raw logits in place: the repetition penalty (CTRL paper) to every token
 * seen in the prompt or the output, dividing positive logits and multiplying negative ones; the presence and
 * frequency penalties (OpenAI) to tokens of the output only, subtracting once per token and once per occurrence.
 */
final class Penalties {
    private Penalties() {}

    static boolean any(SamplingParams p) {
        return p.repetitionPenalty() != 1 || p.presencePenalty() != 0 || p.frequencyPenalty() != 0;
    }

    /**
     * @param tokens prompt followed by output; {@code [0, promptLength)} is the prompt, {@code [promptLength, numTokens)}
     *               the output so far
     */
    static void apply(float[] logits, SamplingParams p, int[] tokens, int promptLength, int numTokens) {
        int vocab = logits.length;
        double rep = p.repetitionPenalty();
        if (rep != 1) {
            if (rep <= 0) throw new IllegalArgumentException("repetition_penalty must be > 0, got " + rep);
            BitSet seen = new BitSet(vocab);
            for (int i = 0; i < numTokens; i++) {
                int t = tokens[i];
                if (t >= 0 && t < vocab) seen.set(t);
            }
            for (int t = seen.nextSetBit(0); t >= 0; t = seen.nextSetBit(t + 1)) {
                float l = logits[t];
                logits[t] = (float) (l > 0 ? l / rep : l * rep);
            }
        }
        double presence = p.presencePenalty(), frequency = p.frequencyPenalty();
        if (presence != 0 || frequency != 0) {
            Map<Integer, int[]> counts = new HashMap<>();
            for (int i = promptLength; i < numTokens; i++) {
                int t = tokens[i];
                if (t >= 0 && t < vocab) counts.computeIfAbsent(t, k -> new int[1])[0]++;
            }
            for (Map.Entry<Integer, int[]> e : counts.entrySet()) {
                int t = e.getKey();
                logits[t] = (float) (logits[t] - frequency * e.getValue()[0] - presence);
            }
        }
    }
}

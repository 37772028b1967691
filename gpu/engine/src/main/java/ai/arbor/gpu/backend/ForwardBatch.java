package ai.arbor.gpu.backend;

import java.util.List;

/** Everything one engine step computes: decode rows and prefill chunks of different sequences in one pass. */
public record ForwardBatch(List<SequenceChunk> chunks) {
    public int numTokens() {
        int n = 0;
        for (SequenceChunk c : chunks) n += c.tokens().length;
        return n;
    }
}

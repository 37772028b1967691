package ai.arbor.gpu.engine;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.sample.ReferenceRowSampler;
import ai.arbor.gpu.sample.Sampled;
import ai.arbor.gpu.sample.SamplingRow;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The real CPU backend offering {@link DeviceSampling} the way the CUDA backend does, with the device algorithm's host
 * model: what the engine hands a device sampler (rows, seeds, steps, suppressed tokens) and when it releases a
 * sequence's state are checked without a GPU.
 */
final class DeviceSamplingBackend implements ComputeBackend, DeviceSampling {
    private final ComputeBackend real;
    private final int slots;
    final Set<String> penaltyState = new HashSet<>();
    final List<List<SamplingRow>> steps = new ArrayList<>();
    int forwardCalls;

    DeviceSamplingBackend(ComputeBackend real, int slots) {
        this.real = real;
        this.slots = slots;
    }

    @Override public String name() { return "device-sampling(" + real.name() + ")"; }
    @Override public long kvBlockBytes(int blockSize) { return real.kvBlockBytes(blockSize); }
    @Override public int availableKvBlocks(int blockSize) { return real.availableKvBlocks(blockSize); }
    @Override public void allocateKvCache(int numBlocks, int blockSize) { real.allocateKvCache(numBlocks, blockSize); }

    @Override
    public float[][] forward(ForwardBatch batch) {
        forwardCalls++;
        return real.forward(batch);
    }

    @Override
    public DeviceSampling.StepTokens forwardSampled(ForwardBatch batch, List<SamplingRow> rows) {
        steps.add(List.copyOf(rows));
        float[][] logits = real.forward(batch);
        int[] ids = new int[rows.size()];
        TokenLogprobs[] lps = new TokenLogprobs[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            SamplingRow r = rows.get(i);
            if (r.hasPenalties()) penaltyState.add(r.sequenceId());
            Sampled s = ReferenceRowSampler.sample(logits[i], r);
            ids[i] = s.tokenId();
            lps[i] = s.logprobs();
        }
        return new StepTokens(ids, lps);
    }

    @Override
    public boolean canSample(List<SamplingRow> rows) {
        Set<String> need = new HashSet<>(penaltyState);
        for (SamplingRow r : rows) if (r.hasPenalties()) need.add(r.sequenceId());
        return need.size() <= slots;
    }

    @Override public void release(String sequenceId) { penaltyState.remove(sequenceId); }

    @Override public void close() { real.close(); }
}

package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.SamplingParams;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The capacity aim on one engine: a shared-prefix workload whose prefixes together take 4x the primary KV
 * pool, run with and without a host tier that holds them all. Prints the cached-token ratio of each against the best
 * possible (every prefix computed once, then always a hit). Counts tokens, not time, so a loaded machine changes
 * nothing.
 *
 * <p>Usage: {@code HostTierCapacityBenchmark MODEL_DIR} (e.g. models/tiny-qwen2).
 */
public final class HostTierCapacityBenchmark {
    private HostTierCapacityBenchmark() {}

    public static void main(String[] args) {
        HfModel model = HfModel.load(Path.of(args.length > 0 ? args[0] : "models/tiny-qwen2"));
        int bs = 16, primary = 64, prefixes = 16, prefixBlocks = 16, suffix = 8, requests = 400;
        long blockBytes = (long) bs * model.config().numLayers() * 2 * model.config().kvDim() * Float.BYTES;
        System.out.printf(Locale.ROOT, "primary pool %d blocks; %d prefixes x %d blocks = %.1fx the pool; %d requests%n",
                primary, prefixes, prefixBlocks, prefixes * prefixBlocks / (double) primary, requests);
        for (long hostBlocks : new long[] {0, 2L * prefixes * prefixBlocks}) {
            EngineConfig config = new EngineConfig(bs, primary, 4, 512, 0, true, 0, hostBlocks * blockBytes);
            LLMEngine e = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 64L << 20), config);
            Random rnd = new Random(42);
            int vocab = model.config().vocabSize();
            int[][] prefix = new int[prefixes][prefixBlocks * bs];
            for (int[] p : prefix) for (int i = 0; i < p.length; i++) p[i] = 1 + rnd.nextInt(vocab - 1);
            long prompt = 0, best = 0;
            AtomicInteger cached = new AtomicInteger();
            Set<Integer> seen = new HashSet<>();
            for (int r = 0; r < requests; r++) {
                int k = rnd.nextInt(prefixes);
                int[] tokens = java.util.Arrays.copyOf(prefix[k], prefix[k].length + suffix);
                for (int i = prefix[k].length; i < tokens.length; i++) tokens[i] = 1 + rnd.nextInt(vocab - 1);
                prompt += tokens.length;
                if (!seen.add(k)) best += prefix[k].length;
                e.addRequest(new EngineRequest("r" + r, tokens, SamplingParams.greedy(1)), out -> {
                    if (out.finished()) cached.addAndGet(out.cachedTokens());
                });
                while (e.hasWork()) e.step();
            }
            EngineStats s = e.stats();
            double ratio = cached.get() / (double) prompt;
            double bestRatio = best / (double) prompt;
            System.out.printf(Locale.ROOT, "host tier %4d blocks: cached-token ratio %.3f of a best possible %.3f (%.0f%%);"
                    + " onboarded from host %d blocks%n", hostBlocks, ratio, bestRatio, 100 * ratio / bestRatio,
                    s.onboardedHostBlocks());
            e.close();
        }
        model.close();
    }
}

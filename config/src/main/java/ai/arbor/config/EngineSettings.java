package ai.arbor.config;

import com.typesafe.config.Config;

/**
 * {@code arbor.engine}: the limits of one worker's engine, with vLLM's names. {@code maxNumSeqs} and
 * {@code maxNumBatchedTokens} are the effective values: where the configuration leaves them 0, the device's
 * {@link BatchDefaults}.
 *
 * @param workers engines {@code arbor serve} runs in its JVM, each its own worker (the limits above apply to each)
 * @param kvHostMemoryBytes host memory of the second KV tier that takes evicted blocks (0 = none)
 * @param quantization how the linear weights are stored (vLLM's {@code --quantization})
 */
public record EngineSettings(int blockSize, int numKvBlocks, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen,
                             boolean enablePrefixCaching, long kvCacheMemoryBytes, int threads,
                             double gpuMemoryUtilization, int workers, long kvHostMemoryBytes,
                             Quantization quantization) {

    /** @param device the validated {@code arbor.device}, whose {@link BatchDefaults} fill what is left 0 */
    static EngineSettings from(Config c, String device) {
        int seqs = c.getInt("max-num-seqs");
        int tokens = c.getInt("max-num-batched-tokens");
        Settings.atLeast("arbor.engine.max-num-seqs", seqs, 0);
        Settings.atLeast("arbor.engine.max-num-batched-tokens", tokens, 0);
        BatchDefaults d = BatchDefaults.forDevice(device);
        if (tokens == 0) tokens = d.maxNumBatchedTokens();
        if (seqs == 0) {
            seqs = Math.min(d.maxNumSeqs(), tokens);
        } else if (tokens < seqs) {
            // As vLLM's SchedulerConfig: a step must hold a decode token for every running sequence.
            throw new IllegalArgumentException("arbor.engine.max-num-batched-tokens (" + tokens
                    + ") must be >= arbor.engine.max-num-seqs (" + seqs + ")");
        }
        EngineSettings s = new EngineSettings(c.getInt("block-size"), c.getInt("num-kv-blocks"), seqs, tokens,
                c.getInt("max-model-len"), c.getBoolean("enable-prefix-caching"),
                c.getBytes("kv-cache-memory"), c.getInt("threads"),
                c.getDouble("gpu-memory-utilization"), c.getInt("workers"), c.getBytes("kv-host-memory"),
                Quantization.parse("arbor.engine.quantization", c.getString("quantization")));
        Settings.positive("arbor.engine.block-size", s.blockSize);
        Settings.atLeast("arbor.engine.num-kv-blocks", s.numKvBlocks, 0);
        Settings.atLeast("arbor.engine.max-model-len", s.maxModelLen, 0);
        Settings.atLeast("arbor.engine.threads", s.threads, 0);
        Settings.positive("arbor.engine.workers", s.workers);
        if (!(s.gpuMemoryUtilization > 0 && s.gpuMemoryUtilization <= 1)) {
            throw new IllegalArgumentException("arbor.engine.gpu-memory-utilization must be in (0, 1], got "
                    + s.gpuMemoryUtilization);
        }
        if (s.kvHostMemoryBytes < 0) throw new IllegalArgumentException("arbor.engine.kv-host-memory must be >= 0");
        if (s.kvCacheMemoryBytes <= 0) throw new IllegalArgumentException("arbor.engine.kv-cache-memory must be > 0");
        return s;
    }

    /** Compute threads to use: the configured number, or one per available core. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}

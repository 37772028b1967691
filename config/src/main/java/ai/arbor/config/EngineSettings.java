package ai.arbor.config;

import com.typesafe.config.Config;

/**
 * {@code arbor.engine}: the limits of one worker's engine, with vLLM's names. {@code maxNumSeqs} and
 * {@code maxNumBatchedTokens} are the effective values: where the configuration leaves them 0, the device's
 * {@link BatchDefaults}.
 *
 * @param workers engines the process runs, each its own worker (the limits above apply to each): one per listed
 *                device, or {@code arbor serve}'s CPU or synthetic engines on one device
 * @param kvHostMemoryBytes host memory of the second KV tier that takes evicted blocks (0 = none)
 * @param quantization how the linear weights are stored (vLLM's {@code --quantization})
 */
public record EngineSettings(int blockSize, int numKvBlocks, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen,
                             boolean enablePrefixCaching, long kvCacheMemoryBytes, int threads,
                             double gpuMemoryUtilization, int workers, long kvHostMemoryBytes,
                             Quantization quantization) {

    /** @param devices the validated {@code arbor.device}, whose {@link BatchDefaults} fill what is left 0 */
    static EngineSettings from(Config c, Devices devices) {
        int seqs = c.getInt("max-num-seqs");
        int tokens = c.getInt("max-num-batched-tokens");
        Settings.atLeast("arbor.engine.max-num-seqs", seqs, 0);
        Settings.atLeast("arbor.engine.max-num-batched-tokens", tokens, 0);
        BatchDefaults d = BatchDefaults.forDevice(devices.toString());
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
                c.getDouble("gpu-memory-utilization"), workers(c.getInt("workers"), devices), c.getBytes("kv-host-memory"),
                Quantization.parse("arbor.engine.quantization", c.getString("quantization")));
        Settings.positive("arbor.engine.block-size", s.blockSize);
        Settings.atLeast("arbor.engine.num-kv-blocks", s.numKvBlocks, 0);
        Settings.atLeast("arbor.engine.max-model-len", s.maxModelLen, 0);
        Settings.atLeast("arbor.engine.threads", s.threads, 0);
        if (!(s.gpuMemoryUtilization > 0 && s.gpuMemoryUtilization <= 1)) {
            throw new IllegalArgumentException("arbor.engine.gpu-memory-utilization must be in (0, 1], got "
                    + s.gpuMemoryUtilization);
        }
        if (s.kvHostMemoryBytes < 0) throw new IllegalArgumentException("arbor.engine.kv-host-memory must be >= 0");
        if (s.kvCacheMemoryBytes <= 0) throw new IllegalArgumentException("arbor.engine.kv-cache-memory must be > 0");
        return s;
    }

    /**
     * The engines to run: {@code configured}, where 0 means one per listed device. One CUDA device holds one engine,
     * and a list runs one on each of its devices, so there a number other than the list's length is a mistake.
     */
    static int workers(int configured, Devices devices) {
        Settings.atLeast("arbor.engine.workers", configured, 0);
        if (configured == 0 || configured == devices.size()) return devices.size();
        if (devices.size() > 1) {
            throw new IllegalArgumentException("arbor.engine.workers (--workers) is " + configured + " but arbor.device "
                    + "lists " + devices.size() + " devices (" + devices + "): one worker runs on each; leave --workers out");
        }
        if (devices.isCuda()) {
            throw new IllegalArgumentException("arbor.engine.workers (--workers) " + configured + " needs --device cpu or "
                    + "synthetic: one CUDA device holds one engine; for several GPUs list them, e.g. --device cuda:0,cuda:1");
        }
        return configured;
    }

    /** Compute threads to use: the configured number, or one per available core. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}

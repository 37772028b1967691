package ai.arbor.cluster.cli;

import ai.arbor.cluster.serve.LoadedModel;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.cluster.serve.SingleNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor serve}: one JVM with every role (frontend, router, worker). Discovery is the in-process Receptionist
 * and KV events stay in process, so neither etcd nor NATS is needed. Flags override {@code ARBOR_*} environment
 * variables, which override the HOCON configuration.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model with the OpenAI API from this one process (no etcd or NATS needed).")
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (default: models/tiny-qwen2; env ARBOR_MODEL)")
    Path model;

    @Option(names = "--served-model-name", paramLabel = "NAME", description = "name clients use (default: the directory's name; env ARBOR_SERVED_MODEL_NAME)")
    String servedModelName;

    @Option(names = "--host", description = "address to listen on (default 127.0.0.1; env ARBOR_HOST)")
    String host;

    @Option(names = "--port", description = "HTTP port (default 8000; env ARBOR_PORT)")
    Integer port;

    @Option(names = "--device", description = "cpu, cuda:N (cuda = cuda:0) or synthetic, or a list of GPUs such as "
            + "cuda:0,cuda:1: one worker on each (default cpu; env ARBOR_DEVICE)")
    String device;

    @Mixin
    HttpSecurityOptions security = new HttpSecurityOptions();

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file with an arbor { ... } block")
    Path config;

    @Option(names = "--max-model-len", description = "longest prompt + output (default: the model's; env ARBOR_MAX_MODEL_LEN)")
    Integer maxModelLen;

    @Option(names = "--max-num-seqs", description = "most requests per batch, default the device's: 256 on cpu and cuda (env ARBOR_MAX_NUM_SEQS)")
    Integer maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", description = "token budget per engine step, >= --max-num-seqs, default the device's: 2048 on cpu and cuda (env ARBOR_MAX_NUM_BATCHED_TOKENS)")
    Integer maxNumBatchedTokens;

    @Option(names = "--block-size", description = "tokens per KV block (env ARBOR_BLOCK_SIZE)")
    Integer blockSize;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", description = "KV cache size, e.g. 2GiB (env ARBOR_KV_CACHE_MEMORY)")
    String kvCacheMemory;

    @Option(names = "--kv-host-memory", paramLabel = "SIZE", description = "host KV tier (evicted blocks, LRU), e.g. 4GiB, default 0 = none (env ARBOR_KV_HOST_MEMORY)")
    String kvHostMemory;

    @Option(names = "--threads", description = "CPU compute threads, 0 = all cores (env ARBOR_THREADS)")
    Integer threads;

    @Option(names = "--gpu-memory-utilization", paramLabel = "FRACTION", description = "fraction of GPU memory the CUDA backend fills, default 0.9 (env ARBOR_GPU_MEMORY_UTILIZATION)")
    Double gpuMemoryUtilization;

    @Option(names = "--quantization", description = "none or fp8: FP8 E4M3 weights with a scale per output channel, "
            + "quantized at load (CPU backend; default none; env ARBOR_QUANTIZATION)")
    String quantization;

    @Option(names = "--max-queued-requests", description = "requests in flight before 429 (env ARBOR_MAX_QUEUED_REQUESTS)")
    Integer maxQueuedRequests;

    @Option(names = "--workers", description = "engines in this process, each its own worker: requests spread over "
            + "them and move to another when one stops; with --router-mode kv, cpu workers pull each other's cached "
            + "prefixes (cpu or synthetic; default one per --device listed; env ARBOR_WORKERS)")
    Integer workers;

    @Option(names = "--router-mode", description = "kv, round-robin, random or least-loaded (env ARBOR_ROUTER_MODE)")
    String routerMode;

    @Option(names = "--tool-call-parser", description = "auto, hermes, llama3_json or none (default auto: from the chat template; env ARBOR_TOOL_CALL_PARSER)")
    String toolCallParser;

    @Option(names = "--reasoning-parser", description = "qwen3 or deepseek_r1: <think> text goes to reasoning_content (default off; env ARBOR_REASONING_PARSER)")
    String reasoningParser;

    @Option(names = "--chat-template", paramLabel = "FILE", description = "Jinja chat template replacing the model's (env ARBOR_CHAT_TEMPLATE)")
    Path chatTemplate;

    /** The flags that were given, as HOCON paths. */
    Map<String, Object> overrides() {
        Map<String, Object> o = new LinkedHashMap<>();
        put(o, "arbor.model", model == null ? null : model.toString());
        put(o, "arbor.served-model-name", servedModelName);
        put(o, "arbor.host", host);
        put(o, "arbor.port", port);
        put(o, "arbor.device", device);
        put(o, "arbor.engine.max-model-len", maxModelLen);
        put(o, "arbor.engine.max-num-seqs", maxNumSeqs);
        put(o, "arbor.engine.max-num-batched-tokens", maxNumBatchedTokens);
        put(o, "arbor.engine.block-size", blockSize);
        put(o, "arbor.engine.kv-cache-memory", kvCacheMemory);
        put(o, "arbor.engine.kv-host-memory", kvHostMemory);
        put(o, "arbor.engine.threads", threads);
        put(o, "arbor.engine.gpu-memory-utilization", gpuMemoryUtilization);
        put(o, "arbor.engine.quantization", quantization);
        put(o, "arbor.frontend.max-queued-requests", maxQueuedRequests);
        put(o, "arbor.engine.workers", workers);
        put(o, "arbor.router.mode", routerMode);
        put(o, "arbor.chat.tool-call-parser", toolCallParser);
        put(o, "arbor.chat.reasoning-parser", reasoningParser);
        put(o, "arbor.chat.chat-template", chatTemplate == null ? null : chatTemplate.toString());
        security.putInto(o);
        return o;
    }

    private static void put(Map<String, Object> o, String key, Object value) {
        if (value != null) o.put(key, value);
    }

    @Override
    public Integer call() throws Exception {
        ArborSettings settings;
        try {
            settings = ArborConfig.settings(overrides(), config);
        } catch (IllegalArgumentException e) {
            System.err.println("arbor serve: " + e.getMessage());
            return 2;
        }
        Running running;
        try {
            running = start(settings);
        } catch (RuntimeException e) {
            System.err.println("arbor serve: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("arbor: shutting down");
            running.close();
            stopped.countDown();
        }, "arbor-shutdown"));
        stopped.await();
        return 0;
    }

    /** Loads the model and starts serving; prints the URL once requests can be sent. */
    public static Running start(ArborSettings settings) {
        LoadedModel loaded = LoadedModel.load(settings, System.err);
        SingleNode node;
        try {
            node = SingleNode.start(settings, loaded.spec(), loaded.engines());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        System.out.println("arbor: serving " + settings.servedModelName() + " at " + node.url()
                + "  (OpenAI API under " + node.url() + "/v1, e.g. curl " + node.url() + "/v1/models)");
        System.out.flush();
        return new Running(node, loaded);
    }

    /** A started server and the model it owns, closed together. */
    public record Running(SingleNode node, LoadedModel model) implements AutoCloseable {
        @Override
        public void close() {
            node.close();
            model.close();
        }
    }
}

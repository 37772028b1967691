package ai.arbor.actors.kvtransfer;

import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.kv.KvBlockExchange;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.protocol.SamplingParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A worker's part in KV sharing: its transfer listener (which serves prefills only in modes {@code prefill} and
 * {@code both}), and the fetches it makes before queueing a request that a router sent with a hint: a remote prefill
 * or a pull of a prefix a peer holds. A request is queued in the engine only once its fetch ended, well or not; one
 * cancelled meanwhile is queued and aborted at once, so it ends like any cancelled request and holds nothing.
 */
public final class WorkerKvSharing implements AutoCloseable {
    /** Where peers reach this worker's blocks, and which part it plays. */
    public record Endpoint(String host, int port, String mode) {}

    private final InferenceEngine engine;
    private final Runnable wakeEngine;
    private final KvSharingSettings settings;
    private final KvTransferServer server;
    private final KvTransferClient client;
    private final KvPrefixPull fetcher;
    private final Endpoint endpoint;
    private final ExecutorService fetches = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kv-fetch");
        t.setDaemon(true);
        return t;
    });
    private final Set<String> fetching = ConcurrentHashMap.newKeySet();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();

    /** Null when the engine cannot exchange blocks (the synthetic engine). */
    public static WorkerKvSharing start(String workerId, InferenceEngine engine, Runnable wakeEngine,
                                        KvSharingSettings settings, KvTransport transport, String bindHost,
                                        String advertiseHost) {
        if (!(engine instanceof KvBlockExchange)) return null;
        try {
            return new WorkerKvSharing(workerId, engine, wakeEngine, settings, transport, bindHost, advertiseHost);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for KV transfers on " + bindHost + ":"
                    + settings.transferPort() + ": " + e.getMessage(), e);
        }
    }

    private WorkerKvSharing(String workerId, InferenceEngine engine, Runnable wakeEngine, KvSharingSettings settings,
                            KvTransport transport, String bindHost, String advertiseHost) throws IOException {
        this.engine = engine;
        this.wakeEngine = wakeEngine;
        this.settings = settings;
        KvBlockExchange exchange = (KvBlockExchange) engine;
        KvTransferMetrics metrics = new KvTransferMetrics(workerId);
        KvBufferPool buffers = new KvBufferPool(settings.bufferPoolBytes());
        this.server = new KvTransferServer(exchange, wakeEngine, metrics, buffers, settings, transport, bindHost,
                settings.transferPort());
        if (!"decode".equals(settings.workerMode())) server.prefillWith(this::prefillHere);
        this.client = new KvTransferClient(metrics, buffers, settings, transport);
        this.fetcher = new KvPrefixPull(exchange, wakeEngine, client);
        this.endpoint = new Endpoint(advertiseHost, settings.advertisedPort(server.port()), settings.workerMode());
    }

    public Endpoint endpoint() { return endpoint; }

    /** A peer's prefill: the prompt as a one-token request, done when it finished (its full blocks are cached). */
    private CompletableFuture<?> prefillHere(int[] prompt) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        String id = "kv-prefill-" + UUID.randomUUID();
        engine.addRequest(new EngineRequest(id, prompt, SamplingParams.greedy(1)), new RequestSink() {
            @Override
            public void onOutput(RequestOutput out) {
                if (out.finished()) done.complete(null);
            }

            @Override
            public void onError(String requestId, Throwable cause) { done.completeExceptionally(cause); }
        });
        wakeEngine.run();
        return done;
    }

    /**
     * Fetches the prompt's KV from {@code peer} (a remote prefill when {@code prefill}, else a pull), then runs
     * {@code enqueue}, on a fetch thread; {@code onFailure} gets what {@code enqueue} threw.
     */
    public void fetchThenEnqueue(String requestId, int[] prompt, InetSocketAddress peer, boolean prefill,
                                 Runnable enqueue, java.util.function.Consumer<RuntimeException> onFailure) {
        fetching.add(requestId);
        fetches.execute(() -> {
            try {
                if (prefill) fetcher.prefill(peer, prompt, settings.transferTimeout());
                else fetcher.pull(peer, prompt, settings.transferTimeout());
                enqueue.run();
            } catch (RuntimeException e) {
                onFailure.accept(e);
            } finally {
                fetching.remove(requestId);
                if (cancelled.remove(requestId)) engine.abort(requestId);
                wakeEngine.run();
            }
        });
    }

    /** Cancels a request: aborted in the engine, or, while its fetch runs, as soon as it is queued. */
    public void abort(String requestId) {
        if (fetching.contains(requestId)) {
            cancelled.add(requestId);
            if (!fetching.contains(requestId)) cancelled.remove(requestId); // the fetch ended meanwhile
        }
        engine.abort(requestId);
    }

    @Override
    public void close() {
        server.close();
        fetches.shutdownNow();
        client.close();
    }
}

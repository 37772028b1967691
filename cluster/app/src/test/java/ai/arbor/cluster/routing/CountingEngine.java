package ai.arbor.cluster.routing;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.protocol.KvEventListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A synthetic engine for routing tests: each step (taking {@code stepMillis}) gives every running request the token
 * after its last one, so a request's whole output is fixed by its prompt. A request that migrates with prompt plus the
 * tokens generated so far therefore continues exactly where it stopped, which lets tests check continuity. Its
 * embeddings are computed at the next step too, each input's vector fixed by the input ({@link #vectorOf}).
 */
final class CountingEngine implements InferenceEngine {
    private record Running(EngineRequest request, RequestSink sink, int[] last, int produced) {}

    private final long stepMillis;
    private final ConcurrentLinkedQueue<Running> incoming = new ConcurrentLinkedQueue<>();
    private final Map<String, Boolean> aborted = new ConcurrentHashMap<>();
    private final List<Running> running = new ArrayList<>();
    final Map<String, Boolean> seen = new ConcurrentHashMap<>();
    /** Outputs handed to sinks, each with one token (or none: an abort). */
    final AtomicLong outputs = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> embeddings = new ConcurrentLinkedQueue<>();
    /** Embedding requests received, and those computed. */
    final AtomicLong embedsReceived = new AtomicLong();
    final AtomicLong embedsDone = new AtomicLong();
    /** While set, embeddings wait (a worker that never answers). */
    volatile boolean holdEmbeddings;

    CountingEngine(long stepMillis) { this.stepMillis = stepMillis; }

    @Override
    public void addRequest(EngineRequest request, RequestSink sink) {
        seen.put(request.requestId(), true);
        int[] p = request.promptTokenIds();
        incoming.add(new Running(request, sink, new int[] {p[p.length - 1]}, 0));
    }

    @Override
    public CompletableFuture<float[][]> embed(List<int[]> prompts) {
        embedsReceived.incrementAndGet();
        CompletableFuture<float[][]> f = new CompletableFuture<>();
        embeddings.add(() -> {
            float[][] out = new float[prompts.size()][];
            for (int i = 0; i < out.length; i++) out[i] = vectorOf(prompts.get(i));
            embedsDone.incrementAndGet();
            f.complete(out);
        });
        return f;
    }

    /** A unit vector from an input's length, first and last token. */
    static float[] vectorOf(int[] input) {
        float[] v = {input.length, input[0], input[input.length - 1]};
        double norm = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        for (int i = 0; i < v.length; i++) v[i] /= (float) norm;
        return v;
    }

    @Override
    public void abort(String requestId) { aborted.put(requestId, true); }

    @Override
    public boolean hasWork() {
        return !incoming.isEmpty() || !running.isEmpty() || (!embeddings.isEmpty() && !holdEmbeddings);
    }

    @Override
    public void step() {
        for (Running r; (r = incoming.poll()) != null; ) running.add(r);
        try {
            Thread.sleep(stepMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        while (!holdEmbeddings && !embeddings.isEmpty()) embeddings.poll().run();
        List<Running> next = new ArrayList<>();
        for (Running r : running) {
            String id = r.request().requestId();
            int promptLen = r.request().promptTokenIds().length;
            if (aborted.remove(id) != null) {
                r.sink().onOutput(new RequestOutput(id, new int[0], null, true, FinishReason.ABORT, promptLen, 0, r.produced()));
                continue;
            }
            int token = r.last()[0] + 1;
            int produced = r.produced() + 1;
            boolean done = produced >= r.request().sampling().maxTokens();
            outputs.incrementAndGet();
            r.sink().onOutput(new RequestOutput(id, new int[] {token}, null, done, done ? FinishReason.LENGTH : null,
                    promptLen, 0, produced));
            if (!done) next.add(new Running(r.request(), r.sink(), new int[] {token}, produced));
        }
        running.clear();
        running.addAll(next);
    }

    @Override
    public EngineStats stats() { return new EngineStats(running.size(), incoming.size(), 0, 100, 0, 0, 0, 0, 0, 0, 0, 0); }

    @Override
    public void addKvEventListener(KvEventListener listener) {}

    @Override
    public int blockSize() { return 16; }

    @Override
    public int maxModelLen() { return 4096; }

    @Override
    public void close() {}
}

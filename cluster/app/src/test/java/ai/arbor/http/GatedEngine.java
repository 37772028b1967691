package ai.arbor.http;

import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.protocol.KvEventListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The synthetic engine behind a closed gate: requests wait there, as they would in a long queue of a busy engine,
 * and produce no token. Tells how many were aborted while they waited. Embeddings wait there too, until
 * {@link #finishEmbeddings} gives each input a vector or their caller drops them (cancels the future, which is how
 * an engine is told to drop a job).
 */
final class GatedEngine implements InferenceEngine {
    private final SyntheticEngine engine;
    private final Map<String, RequestSink> held = new ConcurrentHashMap<>();
    private final AtomicInteger abortedWhileHeld = new AtomicInteger();
    private final Map<CompletableFuture<float[][]>, Integer> heldEmbeddings = new ConcurrentHashMap<>();
    private final AtomicInteger droppedEmbeddings = new AtomicInteger();

    GatedEngine(SyntheticEngine engine) { this.engine = engine; }

    int held() { return held.size(); }

    int abortedWhileHeld() { return abortedWhileHeld.get(); }

    @Override
    public void addRequest(EngineRequest request, RequestSink sink) {
        held.put(request.requestId(), sink);
    }

    @Override
    public CompletableFuture<float[][]> embed(List<int[]> prompts) {
        CompletableFuture<float[][]> f = new CompletableFuture<>();
        heldEmbeddings.put(f, prompts.size());
        f.whenComplete((v, t) -> {
            if (f.isCancelled() && heldEmbeddings.remove(f) != null) droppedEmbeddings.incrementAndGet();
        });
        return f;
    }

    int heldEmbeddings() { return heldEmbeddings.size(); }

    /** Embeddings their caller dropped while they waited at the gate. */
    int droppedEmbeddings() { return droppedEmbeddings.get(); }

    /** Every waiting embedding completes, each input's vector {@code vector}. */
    void finishEmbeddings(float[] vector) {
        heldEmbeddings.forEach((f, inputs) -> {
            float[][] out = new float[inputs][];
            java.util.Arrays.fill(out, vector);
            heldEmbeddings.remove(f);
            f.complete(out);
        });
    }

    @Override
    public void abort(String requestId) {
        if (held.remove(requestId) != null) {
            abortedWhileHeld.incrementAndGet();
        } else {
            engine.abort(requestId);
        }
    }

    @Override
    public boolean hasWork() { return engine.hasWork(); }

    @Override
    public void step() { engine.step(); }

    @Override
    public EngineStats stats() { return engine.stats(); }

    @Override
    public void addKvEventListener(KvEventListener listener) { engine.addKvEventListener(listener); }

    @Override
    public int blockSize() { return engine.blockSize(); }

    @Override
    public int maxModelLen() { return engine.maxModelLen(); }

    @Override
    public void close() { engine.close(); }
}

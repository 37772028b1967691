package ai.arbor.actors.synthetic;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.protocol.KvEventListener;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * An engine that computes nothing: each step gives every running request its next token at once. The output echoes
 * the prompt cyclically (so tests can predict the text), or cycles through a fixed token script, honours max_tokens,
 * min_tokens, EOS and stop token ids, and fills logprobs with made-up values. It measures the serving path's own
 * overhead: instantly, or paced like a real engine (one step every {@code stepNanos} for the whole batch) while it
 * reports its own timestamps ({@link EngineTimestamps}).
 */
public final class SyntheticEngine implements InferenceEngine {

    private record Incoming(EngineRequest request, RequestSink sink) {}

    private static final class Running {
        final EngineRequest request;
        final RequestSink sink;
        int generated;

        Running(EngineRequest request, RequestSink sink) {
            this.request = request;
            this.sink = sink;
        }
    }

    private final long stepNanos;
    private final int[] script;
    private final EngineTimestamps timestamps;
    private final int maxModelLen;
    private final int blockSize;
    private final int[] eosTokenIds;
    private final ConcurrentLinkedQueue<Incoming> incoming = new ConcurrentLinkedQueue<>();
    private final Set<String> aborted = ConcurrentHashMap.newKeySet();
    private final Map<String, Running> running = new LinkedHashMap<>();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile EngineStats stats = new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    private long promptTokens;
    private long generatedTokens;
    private long steps;

    public SyntheticEngine(int maxModelLen, int blockSize, int[] eosTokenIds) {
        this(maxModelLen, blockSize, eosTokenIds, 0);
    }

    /**
     * @param stepNanos how long each step pretends to compute for the whole batch (0 = instant); tests use it to keep
     *                  requests running, the overhead benchmark to pace tokens like a real engine
     */
    public SyntheticEngine(int maxModelLen, int blockSize, int[] eosTokenIds, long stepNanos) {
        this(maxModelLen, blockSize, eosTokenIds, stepNanos, null, EngineTimestamps.NONE);
    }

    /**
     * @param script token ids every request outputs, cyclically, instead of echoing its prompt (null: echo); a benchmark
     *               uses tokens that each decode to visible text, so that every token becomes one streamed chunk
     * @param timestamps told when each request arrives and each token leaves
     */
    public SyntheticEngine(int maxModelLen, int blockSize, int[] eosTokenIds, long stepNanos, int[] script,
                           EngineTimestamps timestamps) {
        if (script != null && script.length == 0) throw new IllegalArgumentException("empty token script");
        this.stepNanos = stepNanos;
        this.script = script == null ? null : script.clone();
        this.timestamps = timestamps;
        this.maxModelLen = maxModelLen;
        this.blockSize = blockSize;
        this.eosTokenIds = eosTokenIds.clone();
    }

    @Override
    public void addRequest(EngineRequest request, RequestSink sink) {
        timestamps.arrived(request.requestId(), System.nanoTime());
        pending.incrementAndGet();
        incoming.add(new Incoming(request, sink));
    }

    @Override
    public void abort(String requestId) {
        aborted.add(requestId);
        pending.incrementAndGet();
    }

    @Override
    public boolean hasWork() { return pending.get() > 0 || !running.isEmpty(); }

    @Override
    public void step() {
        long start = System.nanoTime();
        // like a real engine: the batch is fixed when the step starts, its tokens come out when the step ends
        for (Incoming in; (in = incoming.poll()) != null; ) {
            pending.decrementAndGet();
            running.put(in.request().requestId(), new Running(in.request(), in.sink()));
            promptTokens += in.request().promptTokenIds().length;
        }
        if (stepNanos > 0) computeUntil(start + stepNanos);
        int batch = running.size();
        for (Iterator<Running> it = running.values().iterator(); it.hasNext(); ) {
            Running r = it.next();
            String id = r.request.requestId();
            if (aborted.remove(id)) {
                pending.decrementAndGet();
                r.sink.onOutput(output(r, new int[0], null, true, FinishReason.ABORT));
                it.remove();
                continue;
            }
            int[] prompt = r.request.promptTokenIds();
            int[] source = script != null ? script : prompt;
            int token = source.length == 0 ? 0 : source[r.generated % source.length];
            r.generated++;
            generatedTokens++;
            FinishReason reason = null;
            var sp = r.request.sampling();
            if (r.generated >= sp.minTokens() && (isEos(token) && !sp.ignoreEos() || contains(sp.stopTokenIds(), token))) {
                reason = FinishReason.STOP;
            } else if (r.generated >= sp.maxTokens() || prompt.length + r.generated >= maxModelLen) {
                reason = FinishReason.LENGTH;
            }
            List<TokenLogprobs> lp = sp.logprobs() == null ? null : List.of(logprobs(token, sp.logprobs()));
            timestamps.emitted(id, r.generated, System.nanoTime());
            r.sink.onOutput(output(r, new int[] {token}, lp, reason != null, reason));
            if (reason != null) it.remove();
        }
        // aborts of requests that already finished (or never existed) still count as pending work once
        for (Iterator<String> it = aborted.iterator(); it.hasNext(); ) {
            String id = it.next();
            if (!running.containsKey(id) && incoming.stream().noneMatch(i -> i.request().requestId().equals(id))) {
                it.remove();
                pending.decrementAndGet();
            }
        }
        steps++;
        int blocks = 0;
        for (Running r : running.values()) {
            blocks += (r.request.promptTokenIds().length + r.generated + blockSize - 1) / blockSize;
        }
        stats = new EngineStats(running.size(), incoming.size(), blocks, Math.max(blocks, 1 << 16), 0, 0, 0,
                promptTokens, generatedTokens, steps, batch, System.nanoTime() - start);
    }

    /** Pretends to compute; the loop's wakeups (new requests, aborts) must not cut a step short. */
    private static void computeUntil(long deadline) {
        for (long left; (left = deadline - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
    }

    private RequestOutput output(Running r, int[] tokens, List<TokenLogprobs> lp, boolean finished, FinishReason reason) {
        return new RequestOutput(r.request.requestId(), tokens, lp, finished, reason, r.request.promptTokenIds().length,
                0, r.generated);
    }

    private static TokenLogprobs logprobs(int token, int top) {
        int[] ids = new int[top];
        float[] lps = new float[top];
        for (int i = 0; i < top; i++) {
            ids[i] = i == 0 ? token : token + i;
            lps[i] = -0.25f * (i + 1);
        }
        return new TokenLogprobs(token, -0.25f, ids, lps);
    }

    private boolean isEos(int token) { return contains(eosTokenIds, token); }

    private static boolean contains(int[] ids, int token) {
        if (ids == null) return false;
        for (int id : ids) if (id == token) return true;
        return false;
    }

    @Override
    public EngineStats stats() { return stats; }

    @Override
    public void addKvEventListener(KvEventListener listener) {
        // no cache, so no events
    }

    @Override
    public int blockSize() { return blockSize; }

    @Override
    public int maxModelLen() { return maxModelLen; }

    @Override
    public void close() {
        List<Running> left = new ArrayList<>(running.values());
        running.clear();
        for (Running r : left) r.sink.onOutput(output(r, new int[0], null, true, FinishReason.ABORT));
    }
}

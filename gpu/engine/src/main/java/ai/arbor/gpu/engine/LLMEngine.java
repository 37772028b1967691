package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.ContextLength;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GreedyForward;
import ai.arbor.gpu.backend.KvBlockCopier;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.kv.HostKvTier;
import ai.arbor.gpu.kv.KvBlockBatch;
import ai.arbor.gpu.kv.KvBlockExchange;
import ai.arbor.gpu.kv.KvCacheManager;
import ai.arbor.gpu.protocol.KvEvent;
import ai.arbor.gpu.protocol.KvEventListener;
import ai.arbor.gpu.protocol.Pooling;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.sample.Sampled;
import ai.arbor.gpu.sample.Sampler;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
import ai.arbor.gpu.sample.SamplingRow;
import ai.arbor.gpu.sample.TokenMask;
import ai.arbor.gpu.sched.Request;
import ai.arbor.gpu.sched.ScheduledChunk;
import ai.arbor.gpu.sched.Scheduler;
import ai.arbor.gpu.sched.SchedulerOutput;
import ai.arbor.structured.ConstraintMatcher;
import ai.arbor.structured.GrammarCompiler;
import ai.arbor.structured.StructuredOutputs;
import ai.arbor.structured.TokenVocabulary;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inference engine, after vLLM V1's EngineCore: each {@link #step()} applies queued requests and aborts,
 * schedules a batch, runs one forward pass over it, samples a token for every sequence that reached its end, checks
 * stop conditions, hands each request its output and frees the finished ones, then publishes the step's KV events.
 * {@link #addRequest} and {@link #abort} may be called from any thread; everything else runs on the engine thread.
 * The engine owns the backend it is given and closes it.
 */
public final class LLMEngine implements InferenceEngine, KvBlockExchange {
    private static final Logger log = LoggerFactory.getLogger(LLMEngine.class);
    /** Compiled grammars kept per engine: one per distinct schema in recent use. */
    private static final int GRAMMAR_CACHE = 64;

    private final ComputeBackend backend;
    private final int blockSize;
    private final int maxModelLen;
    private final int vocabSize;
    private final int[] eosTokenIds;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final Sampler sampler = new Sampler();
    private final RequestConstraints constraints;

    private final ConcurrentLinkedQueue<Request> pendingAdds = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> pendingAborts = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<EmbeddingJob> pendingEmbeddings = new ConcurrentLinkedQueue<>();
    private final int hiddenSize;
    /** How {@link #embed(List)} pools: what the model directory declares. */
    private final Pooling pooling;
    /** Block copies for peers, run on the engine thread between steps. */
    private final ConcurrentLinkedQueue<Runnable> pendingCopies = new ConcurrentLinkedQueue<>();
    private long importedPeerBlocks;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong arrivals = new AtomicLong();
    private final List<KvEventListener> listeners = new CopyOnWriteArrayList<>();
    private final List<KvEventListener> reachableListeners = new CopyOnWriteArrayList<>();
    private final Map<String, Request> live = new HashMap<>();

    // Set when the backend can pick tokens where the logits are, so only token ids cross (a 151k-vocabulary fp32 row
    // is 600 KB): every step on a DeviceSampling backend, plain greedy steps on one that only offers the argmax.
    private final DeviceSampling deviceSampling;
    private final GreedyForward greedyForward;
    private volatile boolean sampleOnDevice = true;
    private long deviceSampledSteps;

    private long embeddings;
    private long promptTokens;
    private long generatedTokens;
    private long steps;
    private volatile EngineStats stats;

    /** The engine for a loaded model; its EOS tokens are the union of config, generation config and tokenizer. */
    public LLMEngine(HfModel model, ComputeBackend backend, EngineConfig config) {
        this(model.config(), model.eosTokenIds(), backend, config, new StructuredOutputs(
                () -> TokenVocabulary.load(model.dir()), model.config().vocabSize(), model.eosTokenIds(),
                GrammarCompiler.shared(), GRAMMAR_CACHE), PoolingConfig.read(model.dir()));
    }

    /** An engine without a model directory: no structured outputs, embeddings pooled from the last token. */
    public LLMEngine(ModelConfig model, int[] eosTokenIds, ComputeBackend backend, EngineConfig config) {
        this(model, eosTokenIds, backend, config, null, Pooling.LAST);
    }

    private LLMEngine(ModelConfig model, int[] eosTokenIds, ComputeBackend backend, EngineConfig config,
                      StructuredOutputs structured, Pooling pooling) {
        this.constraints = new RequestConstraints(structured);
        this.pooling = pooling;
        if (config.blockSize() <= 0) throw new IllegalArgumentException("blockSize must be positive, got " + config.blockSize());
        this.backend = backend;
        this.deviceSampling = backend instanceof DeviceSampling d ? d : null;
        this.greedyForward = backend instanceof GreedyForward g ? g : null;
        this.blockSize = config.blockSize();
        this.vocabSize = model.vocabSize();
        this.hiddenSize = model.hiddenSize();
        this.eosTokenIds = eosTokenIds.clone();
        int numBlocks = config.numKvBlocks() > 0 ? config.numKvBlocks() : backend.availableKvBlocks(blockSize);
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("backend " + backend.name() + " has no room for a single KV block of "
                    + blockSize + " tokens (" + backend.kvBlockBytes(blockSize) + " bytes)");
        }
        int modelLen = config.maxModelLen() > 0 ? config.maxModelLen() : model.maxPositionEmbeddings();
        // A request that grows beyond the whole cache could never be scheduled again once preempted.
        int capacity = numBlocks * blockSize;
        if (modelLen > capacity) {
            log.warn("max model length {} exceeds the KV cache ({} blocks of {} = {} tokens); capping it", modelLen,
                    numBlocks, blockSize, capacity);
            modelLen = capacity;
        }
        this.maxModelLen = modelLen;
        backend.allocateKvCache(numBlocks, blockSize);
        this.kv = new KvCacheManager(numBlocks, blockSize, config.enablePrefixCaching(), hostTier(backend, config));
        this.scheduler = new Scheduler(kv, config.maxNumSeqs(), config.maxNumBatchedTokens());
        publishStats(0, 0);
        log.info("engine on {}: {} KV blocks of {} tokens, max model length {}, max {} seqs / {} tokens per step",
                backend.name(), numBlocks, blockSize, maxModelLen, config.maxNumSeqs(), config.maxNumBatchedTokens());
    }

    @Override
    public void addRequest(EngineRequest request, RequestSink sink) {
        if (request.requestId() == null || request.requestId().isEmpty()) {
            throw new IllegalArgumentException("request id must not be empty");
        }
        checkPrompt("request " + request.requestId(), request.promptTokenIds(), 1);
        Sampler.validate(request.sampling());
        if (request.sampling().hasLogitBias()) {
            for (int t : request.sampling().logitBias().keySet()) {
                if (t < 0 || t >= vocabSize) {
                    throw new IllegalArgumentException("logit_bias token id " + t + " is outside the vocabulary [0, "
                            + vocabSize + ")");
                }
            }
        }
        ConstraintMatcher matcher = constraints.matcherFor(request);
        pendingAdds.add(new Request(request, sink, arrivals.getAndIncrement(), matcher));
        inFlight.incrementAndGet();
    }

    /**
     * @param completion tokens that must fit after the prompt: 1 for a generation (it may stop at the context's end),
     *                   0 for an embedding
     */
    private void checkPrompt(String what, int[] prompt, int completion) {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException(what + " has an empty prompt");
        ContextLength.exceeded(prompt.length, completion, maxModelLen).ifPresent(why -> {
            throw new IllegalArgumentException(what + ": " + why);
        });
        for (int t : prompt) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException("prompt token id " + t + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
    }

    /** One prompt's pooled hidden states, in KV blocks borrowed for the pass. Engine thread. */
    float[] embedOne(int[] prompt, Pooling pooling) {
        String id = "embedding-" + embeddings++;
        if (!kv.allocateSlots(id, 0, prompt.length, null)) {
            throw new IllegalStateException("the KV cache has no room for an embedding of " + prompt.length
                    + " tokens now; retry later");
        }
        try {
            float[][] hidden = backend.hiddenStates(new ForwardBatch(List.of(
                    new SequenceChunk(prompt, 0, kv.blockTable(id), false))));
            return pooling.pool(hidden[0], prompt.length, hiddenSize);
        } finally {
            kv.free(id);
        }
    }

    @Override
    public void abort(String requestId) {
        pendingAborts.add(requestId);
    }

    @Override
    public boolean hasWork() {
        return inFlight.get() > 0 || !pendingAborts.isEmpty() || !pendingEmbeddings.isEmpty()
                || !pendingCopies.isEmpty();
    }

    @Override
    public CompletableFuture<float[][]> embed(List<int[]> prompts) { return embed(prompts, pooling); }

    /** {@link #embed(List)} pooled by {@code pooling} rather than as the model declares. */
    public CompletableFuture<float[][]> embed(List<int[]> prompts, Pooling pooling) {
        for (int[] p : prompts) checkPrompt("embedding input", p, 0);
        EmbeddingJob job = new EmbeddingJob(List.copyOf(prompts), pooling, new CompletableFuture<>());
        pendingEmbeddings.add(job);
        return job.result();
    }

    @Override
    public void step() {
        long t0 = System.nanoTime();
        for (EmbeddingJob job; (job = pendingEmbeddings.poll()) != null; ) job.run(this);
        applyAbortsAndAdds();
        SchedulerOutput plan = scheduler.schedule();
        int batchSize = plan.chunks().size();
        List<SamplingRow> rows = !plan.isEmpty() && deviceSampling != null && sampleOnDevice ? samplingRows(plan) : null;
        if (rows != null && deviceSampling.canSample(rows)) {
            DeviceSampling.StepTokens out = deviceSampling.forwardSampled(toForwardBatch(plan), rows);
            scheduler.onForwardDone(plan);
            deviceSampledSteps++;
            if (out.tokens().length < rows.size()) {
                throw new IllegalStateException("backend " + backend.name() + " returned " + out.tokens().length
                        + " tokens for a batch that wants " + rows.size());
            }
            List<Request> finished = new ArrayList<>();
            int row = 0;
            for (ScheduledChunk c : plan.chunks()) {
                if (!c.wantLogits()) continue;
                Request r = c.request();
                if (accept(r, out.tokens()[row], out.logprobs()[row]) != null) finished.add(r);
                row++;
            }
            for (Request r : finished) end(r);
        } else if (!plan.isEmpty() && greedyForward != null && sampleOnDevice && allPlainArgmax(plan)) {
            int[] tokens = greedyForward.forwardGreedy(toForwardBatch(plan));
            scheduler.onForwardDone(plan);
            deviceSampledSteps++;
            List<Request> finished = new ArrayList<>();
            int row = 0;
            for (ScheduledChunk c : plan.chunks()) {
                if (!c.wantLogits()) continue;
                if (row >= tokens.length) {
                    throw new IllegalStateException("backend " + backend.name() + " returned " + tokens.length
                            + " tokens for a batch that wants more");
                }
                Request r = c.request();
                if (accept(r, tokens[row++], null) != null) finished.add(r);
            }
            for (Request r : finished) end(r);
        } else if (!plan.isEmpty()) {
            float[][] logits = backend.forward(toForwardBatch(plan));
            scheduler.onForwardDone(plan);
            List<Request> finished = new ArrayList<>();
            int row = 0;
            for (ScheduledChunk c : plan.chunks()) {
                if (!c.wantLogits()) continue;
                Request r = c.request();
                if (row >= logits.length) {
                    throw new IllegalStateException("backend " + backend.name() + " returned " + logits.length
                            + " logit rows for a batch that wants more");
                }
                FinishReason done = sampleAndCheck(r, logits[row++]);
                if (done != null) finished.add(r);
            }
            for (Request r : finished) end(r);
        }
        flushKvEvents();
        steps++;
        publishStats(batchSize, System.nanoTime() - t0);
    }

    @Override
    public void failInFlight(Throwable cause) {
        List<Request> all = new ArrayList<>(live.values());
        log.error("engine step failed; failing {} requests in flight", all.size(), cause);
        for (Request r : all) {
            live.remove(r.id());
            inFlight.decrementAndGet();
            try {
                if (deviceSampling != null) deviceSampling.release(r.id());
                scheduler.finish(r);
            } catch (RuntimeException e) {
                log.error("could not free the blocks of {}", r.id(), e);
            }
            try {
                r.sink().onError(r.id(), cause);
            } catch (RuntimeException e) {
                log.warn("sink of {} threw on error", r.id(), e);
            }
        }
        flushKvEvents();
        publishStats(0, 0);
    }

    @Override
    public EngineStats stats() {
        EngineStats s = stats;
        int queued = pendingAdds.size();
        if (queued == 0) return s;
        return new EngineStats(s.runningRequests(), s.waitingRequests() + queued, s.kvBlocksActive(), s.kvBlocksTotal(),
                s.prefixCacheQueries(), s.prefixCacheHits(), s.preemptions(), s.promptTokens(), s.generatedTokens(),
                s.steps(), s.lastBatchSize(), s.lastStepNanos(), s.hostKvBlocks(), s.onboardedHostBlocks(),
                s.onboardedPeerBlocks());
    }

    @Override
    public void addKvEventListener(KvEventListener listener) { listeners.add(listener); }

    @Override
    public void addReachableKvEventListener(KvEventListener listener) { reachableListeners.add(listener); }

    @Override
    public boolean hasHostKvTier() { return kv.hostTier() != null; }

    @Override
    public int blockSize() { return blockSize; }

    @Override
    public int maxModelLen() { return maxModelLen; }

    /**
     * Whether steps may pick their tokens on the device: every step on a {@link DeviceSampling} backend, plain greedy
     * ones on a {@link GreedyForward} backend (default on). Off, every step copies the logits to the host and samples
     * there with {@link Sampler}: the reference the device path must agree with.
     */
    public void setSampleOnDevice(boolean on) { this.sampleOnDevice = on; }

    /** Steps whose tokens were picked on the device (see {@link #setSampleOnDevice}). Engine thread. */
    public long deviceSampledSteps() { return deviceSampledSteps; }

    /** Blocks no request holds (cached or empty): all of them once every request has ended. Engine thread. */
    public int numFreeKvBlocks() { return kv.numFreeBlocks(); }

    public int numKvBlocks() { return kv.numBlocks(); }

    /** Drops the prefix cache (reported as AllBlocksCleared); false while requests hold blocks. Engine thread. */
    public boolean resetPrefixCache() {
        boolean ok = kv.resetPrefixCache();
        flushKvEvents();
        publishStats(0, 0);
        return ok;
    }

    /** Ends every request with ABORT and closes the backend. Call after the loop has stopped. */
    @Override
    public void close() {
        pendingAborts.clear();
        for (Request r; (r = pendingAdds.poll()) != null; ) live.put(r.id(), r);
        for (Request r : new ArrayList<>(live.values())) {
            scheduler.finish(r);
            live.remove(r.id());
            inFlight.decrementAndGet();
            emit(r, new int[0], List.of(), FinishReason.ABORT);
        }
        backend.close();
    }

    private void applyAbortsAndAdds() {
        for (Runnable copy; (copy = pendingCopies.poll()) != null; ) copy.run();
        Set<String> aborts = new HashSet<>();
        for (String id; (id = pendingAborts.poll()) != null; ) aborts.add(id);
        for (Request r; (r = pendingAdds.poll()) != null; ) {
            if (live.containsKey(r.id())) {
                inFlight.decrementAndGet();
                r.sink().onError(r.id(), new IllegalArgumentException("request id " + r.id() + " is already running"));
                continue;
            }
            live.put(r.id(), r);
            scheduler.add(r);
            promptTokens += r.promptLength();
        }
        for (String id : aborts) {
            Request r = live.get(id);
            if (r == null) continue;
            emit(r, new int[0], List.of(), FinishReason.ABORT);
            end(r);
        }
    }

    private ForwardBatch toForwardBatch(SchedulerOutput plan) {
        List<SequenceChunk> chunks = new ArrayList<>(plan.chunks().size());
        for (ScheduledChunk c : plan.chunks()) {
            Request r = c.request();
            int[] tokens = Arrays.copyOfRange(r.tokens(), c.startPosition(), c.startPosition() + c.numTokens());
            chunks.add(new SequenceChunk(tokens, c.startPosition(), kv.blockTable(r.id()), c.wantLogits()));
        }
        return new ForwardBatch(chunks);
    }

    /** Samples the request's next token, emits it, and returns why the request ends now, or null. */
    private FinishReason sampleAndCheck(Request r, float[] logits) {
        SamplingParams p = r.sampling();
        ConstraintMatcher m = r.constraint();
        int[] allowed = m == null ? null : m.allowedTokens();
        if (allowed != null && TokenMask.isEmpty(allowed)) {
            // Cannot happen with a byte-level vocabulary (every byte is a token); end rather than sample garbage.
            log.warn("request {}: no token can continue its structured output; ending it", r.id());
            emit(r, new int[0], List.of(), FinishReason.STOP);
            return FinishReason.STOP;
        }
        // Once the constraint is satisfied EOS must stay possible, min_tokens or not, or the output could not end.
        boolean suppress = r.numOutputTokens() < p.minTokens() && (m == null || !m.isAccepting());
        int[] suppressed = suppress ? stopTokensOf(p) : NONE;
        // ignore_eos under a constraint: the output runs on while the constraint lets it, instead of ending at EOS.
        if (m != null && p.ignoreEos()) suppressed = concat(suppressed, eosTokenIds);
        Sampled s = sampler.sample(logits, p, r.tokens(), r.promptLength(), r.numTokens(), suppressed, allowed, r.rng());
        return accept(r, s.tokenId(), s.logprobs());
    }

    /** Appends and emits the request's next token; returns why the request ends now, or null. */
    private FinishReason accept(Request r, int token, TokenLogprobs logprobs) {
        r.appendToken(token);
        generatedTokens++;
        if (r.constraint() != null && !r.constraint().accept(token)) {
            throw new IllegalStateException("request " + r.id() + " took token " + token + ", which its constraint forbids");
        }
        FinishReason done = stopReason(r, token);
        emit(r, new int[] {token}, logprobs == null ? List.of() : List.of(logprobs), done);
        return done;
    }

    /**
     * What the device sampler needs for each sequence that samples this step, in batch order (a structured output's
     * allowed tokens become the row's mask, suppressed tokens follow {@link #sampleAndCheck}'s rules), or null when a
     * row must take the host path (a constraint that allows no token ends there).
     */
    private List<SamplingRow> samplingRows(SchedulerOutput plan) {
        int words = (vocabSize + 31) >>> 5;
        List<SamplingRow> rows = new ArrayList<>();
        for (ScheduledChunk c : plan.chunks()) {
            if (!c.wantLogits()) continue;
            Request r = c.request();
            SamplingParams p = r.sampling();
            ConstraintMatcher m = r.constraint();
            int[] allowed = m == null ? null : m.allowedTokens();
            if (allowed != null) {
                if (TokenMask.isEmpty(allowed)) return null;
                if (allowed.length != words) allowed = Arrays.copyOf(allowed, words); // ids past the mask: disallowed
            }
            boolean suppress = r.numOutputTokens() < p.minTokens() && (m == null || !m.isAccepting());
            int[] suppressed = suppress ? stopTokensOf(p) : NONE;
            if (m != null && p.ignoreEos()) suppressed = concat(suppressed, eosTokenIds);
            rows.add(new SamplingRow(r.id(), p, r.seed(), r.numOutputTokens(), suppressed, allowed, r.tokens(),
                    r.promptLength(), r.numTokens()));
        }
        return rows;
    }

    /** True when every sequence that samples this step would take the plain argmax of its logits. */
    private boolean allPlainArgmax(SchedulerOutput plan) {
        for (ScheduledChunk c : plan.chunks()) {
            if (!c.wantLogits()) continue;
            Request r = c.request();
            SamplingParams p = r.sampling();
            if (!Sampler.isPlainArgmax(p) || r.constraint() != null) return false;
            // min_tokens masks EOS and stop tokens on the host until enough tokens are out.
            if (r.numOutputTokens() < p.minTokens() && stopTokensOf(p).length > 0) return false;
        }
        return true;
    }

    private static final int[] NONE = new int[0];

    private int[] stopTokensOf(SamplingParams p) {
        int[] stop = p.stopTokenIds() == null ? NONE : p.stopTokenIds();
        return p.ignoreEos() ? stop : concat(eosTokenIds, stop);
    }

    private FinishReason stopReason(Request r, int token) {
        SamplingParams p = r.sampling();
        // EOS and stop tokens were masked while fewer than min_tokens were out, so seeing one here is a real stop.
        if (!p.ignoreEos() && contains(eosTokenIds, token)) return FinishReason.STOP;
        if (p.stopTokenIds() != null && contains(p.stopTokenIds(), token)) return FinishReason.STOP;
        if (r.constraint() != null && r.constraint().isDone()) return FinishReason.STOP;
        if (r.numOutputTokens() >= p.maxTokens() || r.numTokens() >= maxModelLen) return FinishReason.LENGTH;
        return null;
    }

    private void emit(Request r, int[] tokens, List<TokenLogprobs> logprobs, FinishReason done) {
        RequestOutput out = new RequestOutput(r.id(), tokens, logprobs, done != null, done, r.promptLength(),
                r.numCachedTokens(), r.numOutputTokens());
        try {
            r.sink().onOutput(out);
        } catch (RuntimeException e) {
            log.warn("sink of request {} threw", r.id(), e);
        }
    }

    private void end(Request r) {
        if (deviceSampling != null) deviceSampling.release(r.id());
        scheduler.finish(r);
        live.remove(r.id());
        inFlight.decrementAndGet();
    }

    private void flushKvEvents() {
        publish(kv.drainEvents(), listeners);
        publish(kv.drainReachableEvents(), reachableListeners);
    }

    private static void publish(List<KvEvent> events, List<KvEventListener> to) {
        if (events.isEmpty()) return;
        for (KvEventListener l : to) {
            try {
                l.onKvEvents(events);
            } catch (RuntimeException e) {
                log.warn("KV event listener threw", e);
            }
        }
    }

    private void publishStats(int batchSize, long stepNanos) {
        HostKvTier host = kv.hostTier();
        stats = new EngineStats(scheduler.numRunning(), scheduler.numWaiting(), kv.numActiveBlocks(), kv.numBlocks(),
                scheduler.prefixCacheQueries(), scheduler.prefixCacheHits(), scheduler.preemptions(), promptTokens,
                generatedTokens, steps, batchSize, stepNanos, host == null ? 0 : host.size(),
                host == null ? 0 : host.onboarded(), importedPeerBlocks);
    }

    @Override
    public long[] prefixHashes(int[] tokens) { return kv.prefixHashes(tokens); }

    @Override
    public CompletableFuture<Integer> heldPrefix(long[] hashes) {
        return onEngineThread(() -> kv.heldPrefix(hashes));
    }

    @Override
    public CompletableFuture<KvBlockBatch> exportBlocks(long[] hashes, IntFunction<ByteBuffer> buffers) {
        return onEngineThread(() -> kv.exportBlocks(hashes, copier(), buffers));
    }

    @Override
    public CompletableFuture<Integer> importBlocks(KvBlockBatch blocks) {
        return onEngineThread(() -> {
            int n = kv.importBlocks(blocks, copier());
            importedPeerBlocks += n;
            flushKvEvents();
            publishStats(0, 0);
            return n;
        });
    }

    private KvBlockCopier copier() {
        return backend.kvBlockCopier().orElseThrow(() -> new UnsupportedOperationException(
                "backend " + backend.name() + " cannot copy KV blocks"));
    }

    /** Runs {@code work} on the engine thread before the next step; the engine loop must be woken by the caller. */
    private <T> CompletableFuture<T> onEngineThread(java.util.function.Supplier<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        pendingCopies.add(() -> {
            try {
                f.complete(work.get());
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** The host tier the config asks for, on a backend that can copy blocks out; null for none. */
    private static HostKvTier hostTier(ComputeBackend backend, EngineConfig config) {
        if (config.hostKvMemoryBytes() <= 0 || !config.enablePrefixCaching()) return null;
        KvBlockCopier copier = backend.kvBlockCopier().orElseThrow(() -> new IllegalArgumentException(
                "backend " + backend.name() + " cannot copy KV blocks, so it has no host KV tier"));
        HostKvTier tier = new HostKvTier(copier, config.hostKvMemoryBytes());
        log.info("host KV tier: {} blocks of {} bytes", tier.capacity(), copier.blockBytes());
        return tier;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static boolean contains(int[] a, int x) {
        for (int v : a) if (v == x) return true;
        return false;
    }
}

package ai.arbor.actors.kvevents;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The embedded bus: publishers' sender threads call the subscribed sinks directly. Nothing is stored, so a subscriber
 * sees only what is published after it subscribed — enough when routers and workers live and die together in one JVM.
 */
public final class InProcessKvEventBus implements KvEventBus {
    private final Map<String, List<KvEventSink>> sinks = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> sequences = new ConcurrentHashMap<>();
    private final List<KvEventPublisher> publishers = new CopyOnWriteArrayList<>();
    private final Map<String, KvEventPublisher> byWorker = new ConcurrentHashMap<>();
    private final int capacity;

    public InProcessKvEventBus() { this(65_536); }

    public InProcessKvEventBus(int bufferCapacity) { this.capacity = bufferCapacity; }

    @Override
    public KvEventPublisher publisher(String model, long workerId) {
        String key = KvSubjects.modelToken(model);
        KvEventPublisher p = new KvEventPublisher(KvSubjects.worker(model, workerId), workerId, capacity, 512, batch -> {
            List<KvEventSink> targets = sinks.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
            // one sequence per model, taken under the model's lock so that sinks see batches in sequence order
            synchronized (targets) {
                long seq = sequences.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
                for (KvEventSink s : targets) s.accept(seq, batch);
            }
        });
        publishers.add(p);
        byWorker.put(key + "/" + workerId, p);
        return p;
    }

    @Override
    public AutoCloseable subscribe(String model, long afterSequence, KvEventSink sink) {
        List<KvEventSink> list = sinks.computeIfAbsent(KvSubjects.modelToken(model), k -> new CopyOnWriteArrayList<>());
        list.add(sink);
        return () -> list.remove(sink);
    }

    @Override
    public boolean healthy() { return true; }

    @Override
    public void requestResync(String model, long workerId) {
        KvEventPublisher p = byWorker.get(KvSubjects.modelToken(model) + "/" + workerId);
        if (p != null) p.requestResync();
    }

    @Override
    public void purge(String model) {}

    @Override
    public void close() {
        publishers.forEach(KvEventPublisher::close);
    }
}

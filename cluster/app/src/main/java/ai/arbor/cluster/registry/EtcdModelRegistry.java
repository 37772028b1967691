package ai.arbor.cluster.registry;

import static ai.arbor.cluster.etcd.EtcdClients.bytes;
import static ai.arbor.cluster.etcd.EtcdClients.string;

import ai.arbor.cluster.etcd.EtcdKeys;
import ai.arbor.cluster.etcd.LeasedKeys;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's model registry in etcd. Workers {@link #publish} a card per served model under their lease (so cards
 * vanish when the worker dies); frontends {@link #startWatching} and read the live view.
 *
 * <p>The view is a snapshot (list) followed by a watch from the snapshot's revision; if the watch breaks (etcd down),
 * the last known view stays in place and a fresh list + watch is retried, so a running cluster keeps answering
 * {@code /v1/models} through an etcd outage. A periodic re-list also repairs anything a broken watch may have missed.
 */
public final class EtcdModelRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EtcdModelRegistry.class);

    private final Client client;
    private final String cluster;
    private final String prefix;
    private final Map<String, ModelCard> cards = new ConcurrentHashMap<>();
    private final List<Consumer<Collection<ModelCard>>> listeners = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService timer;
    private Watch.Watcher watcher;
    private volatile boolean closed;

    public EtcdModelRegistry(Client client, String cluster) {
        this.client = client;
        this.cluster = cluster;
        this.prefix = EtcdKeys.modelsPrefix(cluster);
    }

    /** Worker side: keeps {@code card} in etcd under this process's lease (replacing an earlier card for the model). */
    public void publish(LeasedKeys leased, ModelCard card) {
        leased.put(EtcdKeys.model(cluster, card.model(), card.worker()), card.toJson());
    }

    /** Worker side, on drain: the model disappears from frontends' view at once. */
    public void withdraw(LeasedKeys leased, String model, String worker) {
        leased.remove(EtcdKeys.model(cluster, model, worker));
    }

    /** Frontend side: begins listing and watching; returns at once (the first list happens in the background). */
    public synchronized void startWatching(Duration relistEvery) {
        if (timer != null) return;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "etcd-model-registry");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::relist, 0, relistEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Called with the whole view after every change, on the registry's thread. */
    public void addListener(Consumer<Collection<ModelCard>> listener) {
        listeners.add(listener);
    }

    public List<ModelCard> cards() {
        return List.copyOf(cards.values());
    }

    /** Names of models at least one live worker serves. */
    public List<String> readyModels() {
        return cards.values().stream().filter(ModelCard::ready).map(ModelCard::model).distinct().sorted().toList();
    }

    public ModelAvailability availability(String model) {
        ModelAvailability best = ModelAvailability.UNKNOWN;
        for (ModelCard c : cards.values()) {
            if (!c.model().equals(model)) continue;
            if (c.ready()) return ModelAvailability.READY;
            best = ModelAvailability.STARTING;
        }
        return best;
    }

    private void relist() {
        if (closed) return;
        try {
            var response = client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                    .get(5, TimeUnit.SECONDS);
            Map<String, ModelCard> fresh = new HashMap<>();
            for (KeyValue kv : response.getKvs()) parse(kv).ifPresent(card -> fresh.put(string(kv.getKey()), card));
            boolean changed = !fresh.equals(cards);
            if (changed) {
                cards.keySet().retainAll(fresh.keySet());
                cards.putAll(fresh);
            }
            long revision = response.getHeader().getRevision();
            if (watcher == null) watch(revision + 1);
            if (changed) notifyListeners();
        } catch (Exception e) {
            if (!closed) log.warn("etcd unreachable: keeping the last known {} model cards: {}", cards.size(), e.toString());
        }
    }

    private void watch(long fromRevision) {
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(fromRevision).build();
        watcher = client.getWatchClient().watch(bytes(prefix), option, Watch.listener(
                response -> timer.execute(() -> apply(response)),
                error -> timer.execute(() -> {
                    if (closed) return;
                    log.warn("model registry watch broke ({}); re-listing", error.toString());
                    closeWatcher();
                })));
    }

    private void apply(WatchResponse response) {
        boolean changed = false;
        for (WatchEvent event : response.getEvents()) {
            String key = string(event.getKeyValue().getKey());
            if (event.getEventType() == WatchEvent.EventType.DELETE) {
                changed |= cards.remove(key) != null;
            } else if (event.getEventType() == WatchEvent.EventType.PUT) {
                var card = parse(event.getKeyValue());
                if (card.isPresent()) changed |= !card.get().equals(cards.put(key, card.get()));
            }
        }
        if (changed) notifyListeners();
    }

    private java.util.Optional<ModelCard> parse(KeyValue kv) {
        try {
            return java.util.Optional.of(ModelCard.fromJson(string(kv.getValue())));
        } catch (IllegalArgumentException e) {
            log.warn("ignoring malformed model card {}: {}", string(kv.getKey()), e.getMessage());
            return java.util.Optional.empty();
        }
    }

    private void notifyListeners() {
        List<ModelCard> view = new ArrayList<>(cards.values());
        for (var l : listeners) {
            try {
                l.accept(view);
            } catch (RuntimeException e) {
                log.warn("model registry listener failed", e);
            }
        }
    }

    private void closeWatcher() {
        if (watcher != null) {
            try {
                watcher.close();
            } catch (RuntimeException ignored) {
                // already broken
            }
            watcher = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (timer != null) {
            timer.execute(this::closeWatcher);
            timer.shutdown();
        }
    }
}

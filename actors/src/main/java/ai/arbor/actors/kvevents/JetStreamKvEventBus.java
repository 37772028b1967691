package ai.arbor.actors.kvevents;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.MessageConsumer;
import io.nats.client.PurgeOptions;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.OrderedConsumerConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * KV events in a NATS JetStream stream (file storage, bounded by age and bytes) on subjects
 * {@code arbor.kv.<model>.<worker>}; the stream is created, or its limits updated, at start-up. Workers publish through
 * a {@link KvEventPublisher} (batched, off the engine thread, acknowledged by the server); each router replica reads
 * the model's subjects with its own ordered consumer, which jnats re-creates from the last sequence it delivered after
 * a reconnect, so a NATS restart costs no events that reached the stream.
 */
public final class JetStreamKvEventBus implements KvEventBus {
    private static final Logger log = LoggerFactory.getLogger(JetStreamKvEventBus.class);

    /** Stream limits and publisher buffer sizes. */
    public record Settings(String streamName, Duration maxAge, long maxBytes, int bufferCapacity, int maxBatch,
                           Duration publishTimeout) {
        public static Settings defaults() {
            return new Settings("ARBOR_KV", Duration.ofHours(1), 1L << 30, 65_536, 512, Duration.ofSeconds(2));
        }

        public Settings {
            if (streamName == null || !streamName.matches("[A-Za-z0-9_-]+")) {
                throw new IllegalArgumentException("JetStream stream name must be letters, digits, '_' or '-', got '" + streamName + "'");
            }
            if (maxAge.isNegative() || maxAge.isZero()) throw new IllegalArgumentException("KV event max age must be positive, got " + maxAge);
            if (maxBytes <= 0) throw new IllegalArgumentException("KV event stream max bytes must be positive, got " + maxBytes);
        }
    }

    private final Connection nc;
    private final Settings settings;
    private final JetStream js;
    private final List<KvEventPublisher> publishers = new CopyOnWriteArrayList<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kv-events-watchdog");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong undecodable = new AtomicLong();
    private final io.nats.client.Dispatcher resyncListener;

    public JetStreamKvEventBus(Connection nc, Settings settings) {
        this.nc = nc;
        this.settings = settings;
        try {
            this.js = nc.jetStream(JetStreamOptions.builder().requestTimeout(settings.publishTimeout()).build());
            ensureStream();
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException("cannot create or update JetStream stream " + settings.streamName()
                    + " at " + nc.getConnectedUrl() + " (is nats-server running with -js?): " + e.getMessage(), e);
        }
        resyncListener = nc.createDispatcher();
        startWatchdog();
    }

    private void startWatchdog() {
        watchdog.scheduleWithFixedDelay(() -> subscriptions.forEach(Subscription::check), 250, 250, TimeUnit.MILLISECONDS);
    }

    private void ensureStream() throws IOException, JetStreamApiException {
        JetStreamManagement jsm = nc.jetStreamManagement();
        StreamConfiguration config = StreamConfiguration.builder()
                .name(settings.streamName())
                .subjects(KvSubjects.PREFIX + ".>")
                .storageType(StorageType.File)
                .maxAge(settings.maxAge())
                .maxBytes(settings.maxBytes())
                .discardPolicy(DiscardPolicy.Old)
                .build();
        StreamInfo existing = null;
        try {
            existing = jsm.getStreamInfo(settings.streamName());
        } catch (JetStreamApiException e) {
            if (e.getErrorCode() != 404) throw e;
        }
        if (existing == null) {
            jsm.addStream(config);
            log.info("created JetStream stream {} (max age {}, max bytes {})", settings.streamName(), settings.maxAge(), settings.maxBytes());
        } else {
            jsm.updateStream(config);
        }
    }

    @Override
    public KvEventPublisher publisher(String model, long workerId) {
        String subject = KvSubjects.worker(model, workerId);
        KvEventPublisher p = new KvEventPublisher(subject, workerId, settings.bufferCapacity(), settings.maxBatch(),
                batch -> js.publish(subject, KvEventCodec.encode(batch)));
        publishers.add(p);
        resyncListener.subscribe(KvSubjects.resync(model, workerId), msg -> {
            log.info("worker {} of model {}: resync requested by a router", Long.toHexString(workerId), model);
            p.requestResync();
        });
        return p;
    }

    @Override
    public AutoCloseable subscribe(String model, long afterSequence, KvEventSink sink) {
        Subscription sub = new Subscription(model, afterSequence, sink);
        subscriptions.add(sub);
        sub.restart();
        return sub;
    }

    /**
     * One router's reading of one model's subjects. jnats' ordered consumer recovers from missed messages by itself,
     * but after a server restart it may wait a long heartbeat period; the watchdog re-creates it as soon as the
     * connection has reconnected (or when creating it failed because NATS was down), from the last sequence
     * delivered, so nothing is skipped and repeats are filtered here.
     */
    private final class Subscription implements AutoCloseable {
        private final String model;
        private final KvEventSink sink;
        private volatile long lastDelivered;
        private MessageConsumer consumer;
        private long reconnectsSeen = -1;
        private boolean closed;

        Subscription(String model, long afterSequence, KvEventSink sink) {
            this.model = model;
            this.lastDelivered = afterSequence;
            this.sink = sink;
        }

        synchronized void restart() {
            if (closed) return;
            if (consumer != null) {
                consumer.stop();
                consumer = null;
            }
            reconnectsSeen = nc.getStatistics().getReconnects();
            OrderedConsumerConfiguration config = new OrderedConsumerConfiguration().filterSubject(KvSubjects.allWorkers(model));
            if (lastDelivered > 0) {
                config.deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(lastDelivered + 1);
            } else {
                config.deliverPolicy(DeliverPolicy.All);
            }
            try {
                consumer = nc.getStreamContext(settings.streamName()).createOrderedConsumer(config).consume(this::onMessage);
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                log.warn("cannot consume KV events of model '{}' from stream {} yet (retrying): {}", model, settings.streamName(), e.toString());
            }
        }

        private void onMessage(io.nats.client.Message msg) {
            long seq = msg.metaData().streamSequence();
            if (seq <= lastDelivered) return;
            KvEventBatch batch;
            try {
                batch = KvEventCodec.decode(msg.getData());
            } catch (IllegalArgumentException e) {
                undecodable.incrementAndGet();
                log.warn("skipping undecodable KV event message on {}: {}", msg.getSubject(), e.getMessage());
                lastDelivered = seq;
                return;
            }
            sink.accept(seq, batch);
            lastDelivered = seq;
        }

        void check() {
            boolean needed;
            synchronized (this) {
                needed = !closed && nc.getStatus() == Connection.Status.CONNECTED
                        && (consumer == null || nc.getStatistics().getReconnects() != reconnectsSeen);
            }
            if (needed) restart();
        }

        @Override
        public synchronized void close() {
            closed = true;
            subscriptions.remove(this);
            if (consumer != null) consumer.stop();
            consumer = null;
        }
    }

    @Override
    public void requestResync(String model, long workerId) {
        try {
            if (nc.getStatus() == Connection.Status.CONNECTED) nc.publish(KvSubjects.resync(model, workerId), new byte[0]);
        } catch (RuntimeException e) {
            log.debug("resync request not sent", e);
        }
    }

    @Override
    public boolean healthy() {
        return nc.getStatus() == Connection.Status.CONNECTED;
    }

    /** Messages that were not KV event batches (skipped). */
    public long undecodable() { return undecodable.get(); }

    @Override
    public void purge(String model) {
        try {
            nc.jetStreamManagement().purgeStream(settings.streamName(), PurgeOptions.subject(KvSubjects.allWorkers(model)));
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException("cannot purge KV events of model '" + model + "': " + e.getMessage(), e);
        }
    }

    /** Stops publishers (sending what they hold, briefly) and consumers; the connection belongs to the caller. */
    @Override
    public void close() {
        watchdog.shutdownNow();
        if (nc.getStatus() != Connection.Status.CLOSED) nc.closeDispatcher(resyncListener);
        publishers.forEach(KvEventPublisher::close);
        subscriptions.forEach(Subscription::close);
    }
}

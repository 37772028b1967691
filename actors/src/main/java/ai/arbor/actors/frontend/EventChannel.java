package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

/**
 * Hands one request's engine outputs and events to its response stream ({@link EventSource}) without a message per
 * element: producers append, the stream takes on demand and is woken only when it waits. Outputs are decoded into
 * events where they are taken ({@link OutputDecoder}); what a slow client has not taken yet waits here, and the deltas
 * of one choice that queued up are merged into one element when taken (see {@link #take}), so the engine never waits.
 *
 * <p>Producers: the worker's engine thread when the worker is in this actor system ({@code WorkerActor.LocalReplies}),
 * otherwise the request's actor; the actor also ends the stream with a failure. Their elements keep each producer's
 * order. One consumer: the stream's stage.
 */
final class EventChannel {
    /** The last element of a successful stream. */
    static final Object COMPLETE = new Object() {
        @Override
        public String toString() { return "COMPLETE"; }
    };

    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    /** Set by the consumer when it has demand and found nothing; the producer then wakes it. */
    private final AtomicBoolean consumerWaiting = new AtomicBoolean();
    private volatile Runnable wakeup;
    private final OutputDecoder decoder;
    private final boolean everyOutput;
    /** Consumer's own: events decoded and not taken yet. */
    private final ArrayDeque<Object> ready = new ArrayDeque<>();
    private IntConsumer stopped = i -> {};

    /**
     * @param decoder turns the {@link RequestOutput}s offered into events; null if only events are offered
     * @param everyOutput wake a waiting consumer for every output (a streamed response). If false (one JSON document,
     *                    no stop strings), only a choice's first and last outputs wake it: what came between is
     *                    taken with the last, as one delta, a thread wake-up less per token that the client would not
     *                    see before the end anyway. Stop strings need every output, since the consumer finds them.
     */
    EventChannel(OutputDecoder decoder, boolean everyOutput) {
        this.decoder = decoder;
        this.everyOutput = everyOutput;
    }

    /**
     * Producer: an engine output, an event, {@link #COMPLETE}, or a {@link GenerationEvent.Failure} (both last).
     */
    void offer(Object element) {
        queue.add(element);
        if (!everyOutput && element instanceof RequestOutput out && !out.finished()
                && out.outputTokens() > out.newTokenIds().length) {
            return; // neither the choice's first nor its last: the consumer takes it with the last
        }
        if (consumerWaiting.compareAndSet(true, false)) wakeup.run();
    }

    /**
     * Consumer, once, before it first waits: how to wake it, and whom to tell when a stop string ended a choice
     * whose engine request still runs.
     */
    void attach(Runnable wakeup, IntConsumer stopped) {
        this.stopped = stopped;
        this.wakeup = wakeup;
    }

    /**
     * Consumer: the next event, with the deltas of one choice that queued up behind it merged into one (as vLLM's
     * output collector does: fewer, larger chunks instead of a growing backlog); null when there is none, in which
     * case the consumer is woken once there is.
     */
    Object take() {
        if (ready.isEmpty() && !drain()) {
            consumerWaiting.set(true);
            // an element offered between the drain and the flag found nobody waiting: look again
            if (!drain()) return null;
            consumerWaiting.set(false); // a wakeup sent meanwhile is harmless: the consumer just takes again
        }
        Object first = ready.poll();
        return first instanceof GenerationEvent.Delta d ? mergeFollowing(d) : first;
    }

    /** Decodes everything offered so far; true if there is an event to take. */
    private boolean drain() {
        for (Object o; (o = queue.poll()) != null; ) {
            if (o instanceof RequestOutput out) decoder.decode(out, ready, stopped);
            else ready.add(o);
        }
        return !ready.isEmpty();
    }

    private GenerationEvent.Delta mergeFollowing(GenerationEvent.Delta d) {
        if (!(ready.peek() instanceof GenerationEvent.Delta next) || next.index() != d.index()) return d;
        StringBuilder text = new StringBuilder(d.text());
        int[] ids = d.tokenIds();
        List<TokenLogprobs> lps = d.logprobs() == null ? null : new ArrayList<>(d.logprobs());
        while (ready.peek() instanceof GenerationEvent.Delta n && n.index() == d.index()) {
            ready.poll();
            text.append(n.text());
            int[] merged = Arrays.copyOf(ids, ids.length + n.tokenIds().length);
            System.arraycopy(n.tokenIds(), 0, merged, ids.length, n.tokenIds().length);
            ids = merged;
            if (n.logprobs() != null) {
                if (lps == null) lps = new ArrayList<>();
                lps.addAll(n.logprobs());
            }
        }
        return new GenerationEvent.Delta(d.index(), text.toString(), ids, lps);
    }
}

package ai.arbor.actors.frontend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Hands one request's events from its actor to its response stream ({@link EventSource}) without a message per
 * element: the actor appends, the stream takes on demand and is woken only when it waits. Text a slow client has not
 * taken yet waits here, and is merged into one element when taken (see {@link #take}), so the engine never waits.
 *
 * <p>One producer (the request's actor) and one consumer (the stream's stage).
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

    /** Producer: an event, {@link #COMPLETE}, or a {@link GenerationEvent.Failure} (both last). */
    void offer(Object element) {
        queue.add(element);
        if (consumerWaiting.compareAndSet(true, false)) wakeup.run();
    }

    /** Consumer, once, before it first waits: how to wake it. */
    void attach(Runnable wakeup) { this.wakeup = wakeup; }

    /**
     * Consumer: the next element, with the deltas of one choice that queued up behind it merged into one (as vLLM's
     * output collector does: fewer, larger chunks instead of a growing backlog); null when there is none, in which
     * case the consumer is woken once there is.
     */
    Object take() {
        Object first = queue.poll();
        if (first == null) {
            consumerWaiting.set(true);
            // an element offered between the poll and the flag found nobody waiting: look again
            first = queue.poll();
            if (first == null) return null;
            consumerWaiting.set(false); // a wakeup sent meanwhile is harmless: the consumer just takes again
        }
        return first instanceof GenerationEvent.Delta d ? mergeFollowing(d) : first;
    }

    private GenerationEvent.Delta mergeFollowing(GenerationEvent.Delta d) {
        if (!(queue.peek() instanceof GenerationEvent.Delta next) || next.index() != d.index()) return d;
        StringBuilder text = new StringBuilder(d.text());
        int[] ids = d.tokenIds();
        List<ai.arbor.gpu.sample.TokenLogprobs> lps = d.logprobs() == null ? null : new ArrayList<>(d.logprobs());
        while (queue.peek() instanceof GenerationEvent.Delta n && n.index() == d.index()) {
            queue.poll();
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

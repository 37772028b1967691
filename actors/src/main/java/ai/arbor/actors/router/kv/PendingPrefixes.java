package ai.arbor.actors.router.kv;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Prompt blocks this router replica has sent to a worker whose KV events have not caught up yet. A worker reports a
 * prompt's blocks only once its prefill has run — a second or more later on a busy CPU — so without this, requests
 * sharing a prefix that arrive meanwhile see no overlap anywhere, go to whichever worker is least loaded and compute
 * the same prefix again there. With it, the worker a request was routed to counts as holding that request's full
 * blocks from the moment of routing, for as long as the request runs plus a short grace period (by then the worker's
 * own events say what it really holds, including evictions).
 *
 * <p>Kept per sequence hash (a block together with its whole prefix), with a count per worker, so that requests
 * sharing a prefix on one worker share entries and releasing one keeps the others'. Only this replica's own requests
 * are here; other frontends' decisions reach it through the KV events like everything else. Not thread-safe: the
 * router actor owns it.
 */
final class PendingPrefixes {
    private record Entry(long workerId, long[] sequenceHashes) {}

    private record Released(Entry entry, long atNanos) {}

    private final long graceNanos;
    private final LongSupplier clock;
    private final Map<String, Entry> running = new HashMap<>();
    private final ArrayDeque<Released> lingering = new ArrayDeque<>();
    /** sequence hash → (worker → number of pending requests there with that block) */
    private final Map<Long, Map<Long, Integer>> holders = new HashMap<>();

    PendingPrefixes(long graceNanos, LongSupplier clock) {
        this.graceNanos = graceNanos;
        this.clock = clock;
    }

    /** The request went to {@code workerId}; {@code sequenceHashes} are its prompt's full blocks. */
    void routed(String requestId, long workerId, long[] sequenceHashes) {
        expire();
        Entry e = new Entry(workerId, sequenceHashes);
        Entry previous = running.put(requestId, e);
        if (previous != null) drop(previous);
        for (long h : sequenceHashes) holders.computeIfAbsent(h, k -> new HashMap<>(4)).merge(workerId, 1, Integer::sum);
    }

    /** The request ended: its blocks stay pending for the grace period, until the worker's events have surely come. */
    void released(String requestId) {
        Entry e = running.remove(requestId);
        if (e != null) lingering.addLast(new Released(e, clock.getAsLong()));
        expire();
    }

    /** A worker left: nothing is pending on it any more. */
    void removeWorker(long workerId) {
        running.values().removeIf(e -> {
            if (e.workerId() == workerId) drop(e);
            return e.workerId() == workerId;
        });
        lingering.removeIf(r -> {
            if (r.entry().workerId() == workerId) drop(r.entry());
            return r.entry().workerId() == workerId;
        });
    }

    /**
     * Leading blocks of a request (given as its sequence hashes) pending on each worker; workers with none are
     * absent. The walk stops where no worker has the next block, so it costs the length of the longest match.
     */
    Map<Long, Integer> depths(long[] sequenceHashes) {
        expire();
        Map<Long, Integer> depth = new HashMap<>();
        if (holders.isEmpty() || sequenceHashes.length == 0) return depth;
        Map<Long, Integer> first = holders.get(sequenceHashes[0]);
        if (first == null) return depth;
        for (Long w : first.keySet()) depth.put(w, 1);
        int active = depth.size();
        for (int i = 1; i < sequenceHashes.length && active > 0; i++) {
            Map<Long, Integer> here = holders.getOrDefault(sequenceHashes[i], Map.of());
            active = 0;
            for (Map.Entry<Long, Integer> d : depth.entrySet()) {
                if (d.getValue() == i && here.containsKey(d.getKey())) {
                    d.setValue(i + 1);
                    active++;
                }
            }
        }
        return depth;
    }

    /** Requests routed and not yet released. */
    int running() { return running.size(); }

    /** Distinct blocks pending on some worker (running or lingering requests). */
    int blocks() { return holders.size(); }

    private void expire() {
        long now = clock.getAsLong();
        for (Iterator<Released> it = lingering.iterator(); it.hasNext(); ) {
            Released r = it.next();
            if (now - r.atNanos() < graceNanos) break; // released in order, so the rest are younger
            drop(r.entry());
            it.remove();
        }
    }

    private void drop(Entry e) {
        for (long h : e.sequenceHashes()) {
            Map<Long, Integer> w = holders.get(h);
            if (w == null) continue;
            w.computeIfPresent(e.workerId(), (k, n) -> n <= 1 ? null : n - 1);
            if (w.isEmpty()) holders.remove(h);
        }
    }
}

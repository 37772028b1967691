package ai.arbor.actors.kvtransfer;

import ai.arbor.gpu.kv.KvBlockBatch;
import ai.arbor.gpu.kv.KvBlockExchange;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the part of a prompt's cached prefix that a peer holds and this engine does not, before the request is
 * queued here: the blocks land in this engine's cache, so the request's admission finds them as a prefix hit and
 * computes only the rest. Best effort by design: any failure (peer dead, stream cut, deadline) leaves the cache as it
 * was and the request computes the prefix itself.
 */
public final class KvPrefixPull {
    private static final Logger log = LoggerFactory.getLogger(KvPrefixPull.class);

    private final KvBlockExchange engine;
    private final Runnable wakeEngine;
    private final KvTransferClient client;

    public KvPrefixPull(KvBlockExchange engine, Runnable wakeEngine, KvTransferClient client) {
        this.engine = engine;
        this.wakeEngine = wakeEngine;
        this.client = client;
    }

    /** Result of one pull: blocks taken in, and why nothing was when it failed (null on success). */
    public record Outcome(int blocks, String failure) {}

    /** Pulls the blocks of {@code prompt}'s prefix after those held here from {@code peer}, within {@code timeout}. */
    public Outcome pull(InetSocketAddress peer, int[] prompt, Duration timeout) {
        return fetch(peer, prompt, timeout, false);
    }

    /**
     * Has {@code peer} (a prefill worker) compute {@code prompt} and takes in the blocks of its prefix that are not held
     * here (disaggregated prefill; the peer's own prefix cache spares it what it holds).
     */
    public Outcome prefill(InetSocketAddress peer, int[] prompt, Duration timeout) {
        return fetch(peer, prompt, timeout, true);
    }

    private Outcome fetch(InetSocketAddress peer, int[] prompt, Duration timeout, boolean remotePrefill) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            long[] hashes = engine.prefixHashes(prompt);
            if (hashes.length == 0) return new Outcome(0, null);
            var heldF = engine.heldPrefix(hashes);
            wakeEngine.run();
            int held = heldF.get(remaining(deadline), TimeUnit.NANOSECONDS);
            if (held == hashes.length) return new Outcome(0, null);
            Duration left = Duration.ofNanos(remaining(deadline));
            KvBlockBatch got = remotePrefill ? client.prefill(peer, prompt, left)
                    : client.pull(peer, Arrays.copyOfRange(hashes, held, hashes.length), left);
            if (got.size() == 0) return new Outcome(0, null);
            var takenF = engine.importBlocks(got);
            // the buffer goes back once the engine thread has copied from it, even if this wait gives up first
            takenF.whenComplete((n, e) -> client.release(got));
            wakeEngine.run();
            return new Outcome(takenF.get(remaining(deadline), TimeUnit.NANOSECONDS), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(0, "interrupted");
        } catch (Exception e) {
            log.info("KV prefix {} from {} failed, the prefix will be computed here: {}", remotePrefill ? "prefill" : "pull", peer,
                    e.getMessage());
            return new Outcome(0, String.valueOf(e.getMessage()));
        }
    }

    private static long remaining(long deadline) { return Math.max(1, deadline - System.nanoTime()); }
}

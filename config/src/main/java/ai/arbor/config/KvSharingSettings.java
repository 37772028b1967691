package ai.arbor.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * {@code arbor.kv-sharing}: KV blocks moving between workers (read from {@link ArborSettings#raw()}).
 *
 * @param workerMode             {@code prefill} (computes prompts for decode workers), {@code decode} (streams tokens,
 *                               takes prompts' KV from prefill workers) or {@code both}
 * @param transferPort           TCP port of a worker's block transfer listener (0 = any free port)
 * @param advertiseTransferPort  the transfer port peers are told to dial, when a NAT, port mapping or proxy sits in
 *                               between (0 = the port the listener has)
 * @param transferTimeout        deadline of one transfer, prefill included; past it the decode worker computes alone
 * @param disaggMinPrefillTokens conditional disaggregation: a prompt with fewer uncached tokens (on the decode
 *                               worker) than this is prefilled where it decodes
 * @param peerPullMinBlocks      a worker pulls a prefix from a peer when the peer holds at least this many more of
 *                               its leading blocks
 * @param idleConnectionsPerPeer transfer connections kept open to each peer between transfers (0: one per transfer)
 * @param connectionIdleTimeout  a kept connection unused this long is closed (by the listener after twice as long)
 * @param bufferPoolBytes        direct buffers kept for transfers' block bytes, both directions together, so a
 *                               transfer neither allocates nor page-faults its buffer
 */
public record KvSharingSettings(String workerMode, int transferPort, int advertiseTransferPort, Duration transferTimeout,
                                int disaggMinPrefillTokens, int peerPullMinBlocks, int idleConnectionsPerPeer,
                                Duration connectionIdleTimeout, long bufferPoolBytes) {
    public static final Set<String> MODES = Set.of("prefill", "decode", "both");

    public KvSharingSettings {
        if (!MODES.contains(workerMode)) {
            throw new IllegalArgumentException("arbor.kv-sharing.worker-mode must be prefill, decode or both, got '"
                    + workerMode + "'");
        }
        if (transferPort < 0 || transferPort > 65535) {
            throw new IllegalArgumentException("arbor.kv-sharing.transfer-port must be in 0..65535, got " + transferPort);
        }
        if (advertiseTransferPort < 0 || advertiseTransferPort > 65535) {
            throw new IllegalArgumentException("arbor.kv-sharing.advertise-transfer-port must be in 0..65535, got "
                    + advertiseTransferPort);
        }
        if (transferTimeout.isNegative() || transferTimeout.isZero()) {
            throw new IllegalArgumentException("arbor.kv-sharing.transfer-timeout must be positive, got " + transferTimeout);
        }
        Settings.atLeast("arbor.kv-sharing.disagg-min-prefill-tokens", disaggMinPrefillTokens, 0);
        Settings.positive("arbor.kv-sharing.peer-pull-min-blocks", peerPullMinBlocks);
        Settings.atLeast("arbor.kv-sharing.idle-connections-per-peer", idleConnectionsPerPeer, 0);
        if (connectionIdleTimeout.isNegative() || connectionIdleTimeout.isZero()) {
            throw new IllegalArgumentException("arbor.kv-sharing.connection-idle-timeout must be positive, got "
                    + connectionIdleTimeout);
        }
        Settings.atLeast("arbor.kv-sharing.buffer-pool", bufferPoolBytes, 0);
    }

    /**
     * The settings of a process's {@code index}-th worker (one per GPU of a node): a fixed transfer port moves up by
     * {@code index}, so each worker listens on its own and the first keeps the configured one; 0 (any) stays 0. An
     * advertised port moves the same way (a mapping of a range of ports).
     */
    public KvSharingSettings forWorker(int index) {
        if (index == 0) return this;
        return new KvSharingSettings(workerMode, transferPort == 0 ? 0 : transferPort + index,
                advertiseTransferPort == 0 ? 0 : advertiseTransferPort + index, transferTimeout, disaggMinPrefillTokens,
                peerPullMinBlocks, idleConnectionsPerPeer, connectionIdleTimeout, bufferPoolBytes);
    }

    /** The port peers dial to reach a listener on {@code listening}. */
    public int advertisedPort(int listening) { return advertiseTransferPort == 0 ? listening : advertiseTransferPort; }

    public static KvSharingSettings defaults() {
        return from(com.typesafe.config.ConfigFactory.defaultReference().getConfig("arbor.kv-sharing"));
    }

    public static KvSharingSettings from(ArborSettings arbor) { return from(arbor.raw().getConfig("arbor.kv-sharing")); }

    static KvSharingSettings from(Config c) {
        return new KvSharingSettings(c.getString("worker-mode").trim().toLowerCase(Locale.ROOT),
                c.getInt("transfer-port"), c.getInt("advertise-transfer-port"), c.getDuration("transfer-timeout"), c.getInt("disagg-min-prefill-tokens"),
                c.getInt("peer-pull-min-blocks"), c.getInt("idle-connections-per-peer"),
                c.getDuration("connection-idle-timeout"), c.getBytes("buffer-pool"));
    }
}

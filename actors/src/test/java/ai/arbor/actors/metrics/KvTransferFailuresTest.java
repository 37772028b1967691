package ai.arbor.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.arbor.actors.kvtransfer.KvBufferPool;
import ai.arbor.actors.kvtransfer.KvTransferClient;
import ai.arbor.actors.kvtransfer.KvTransport;
import ai.arbor.config.KvSharingSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The asking side counts each failed transfer once, under its operation and reason, against peers that misbehave on
 * a real socket: one that answers with an error, one that stops mid-reply, one that never answers, and none at all.
 */
class KvTransferFailuresTest {
    private static final String W = "worker=\"w-fail\"";

    @BeforeAll
    static void start() {
        ArborMetrics.start(Duration.ofSeconds(1));
    }

    @Test
    void eachFailedTransferIsCountedUnderItsReason() throws Exception {
        try (KvTransferClient c = new KvTransferClient(new KvTransferMetrics("w-fail"), new KvBufferPool(1 << 20),
                KvSharingSettings.defaults(), KvTransport.plain());
             ServerSocket refusing = new ServerSocket(0); ServerSocket cutting = new ServerSocket(0);
             ServerSocket silent = new ServerSocket(0)) {
            answerOnce(refusing, reply(bytes -> bytes.put((byte) 1).putInt(2).put("no".getBytes(StandardCharsets.UTF_8))));
            // a reply that begins (status OK, half a batch header) and then the connection closes
            answerOnce(cutting, reply(bytes -> bytes.put((byte) 0).putInt(4).putInt(16)));
            assertThrows(KvTransferClient.KvTransferException.class,
                    () -> c.prefill(peer(refusing), new int[] {1, 2, 3}, Duration.ofSeconds(10)));
            assertThrows(KvTransferClient.KvTransferException.class,
                    () -> c.pull(peer(cutting), new long[] {7}, Duration.ofSeconds(10)));
            assertThrows(KvTransferClient.KvTransferException.class,
                    () -> c.pull(peer(silent), new long[] {7}, Duration.ofMillis(200)));
            int closedPort;
            try (ServerSocket gone = new ServerSocket(0)) {
                closedPort = gone.getLocalPort();
            }
            assertThrows(KvTransferClient.KvTransferException.class,
                    () -> c.prefill(new InetSocketAddress("127.0.0.1", closedPort), new int[] {1}, Duration.ofSeconds(10)));
        }
        PrometheusNamesTest.awaitAll(
                "arbor_worker_kv_transfer_failures_total{op=\"prefill\",reason=\"peer-error\"," + W + "} 1.0",
                "arbor_worker_kv_transfer_failures_total{op=\"pull\",reason=\"connection\"," + W + "} 1.0",
                "arbor_worker_kv_transfer_failures_total{op=\"pull\",reason=\"deadline\"," + W + "} 1.0",
                "arbor_worker_kv_transfer_failures_total{op=\"prefill\",reason=\"connection\"," + W + "} 1.0",
                "arbor_worker_kv_transfer_failures_total{op=\"push\",reason=\"deadline\"," + W + "} 0.0");
    }

    private interface Fill {
        void into(ByteBuffer b);
    }

    private static byte[] reply(Fill fill) {
        ByteBuffer b = ByteBuffer.allocate(64);
        fill.into(b);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    /** Accepts one connection, reads the request's first bytes, writes {@code reply} and closes. */
    private static void answerOnce(ServerSocket server, byte[] reply) {
        Thread t = new Thread(() -> {
            try (Socket s = server.accept()) {
                s.getInputStream().read(new byte[4096]);
                OutputStream o = s.getOutputStream();
                o.write(reply);
                o.flush();
            } catch (IOException ignored) {
                // the client sees whatever arrived
            }
        }, "misbehaving-peer");
        t.setDaemon(true);
        t.start();
    }

    private static InetSocketAddress peer(ServerSocket s) { return new InetSocketAddress("127.0.0.1", s.getLocalPort()); }
}

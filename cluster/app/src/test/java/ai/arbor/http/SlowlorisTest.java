package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Slowloris: 1,100 connections send a request head at one byte a second. A normal client is still served within
 * the bound stated here while they are all open, and the server cuts every slow one after the header timeout.
 * Counts go to docs/operations.md.
 */
class SlowlorisTest {
    static final int SLOW_CONNECTIONS = 1_100;
    static final int NORMAL_REQUESTS = 10;
    static final long NORMAL_BOUND_MS = 2_000;
    static final long HEADER_TIMEOUT_S = 5;

    @Test
    void slowHeadsCannotStarveANormalClientAndAreCutAfterTheHeaderTimeout() throws Exception {
        try (SingleNode node = SyntheticServers.start(Map.of("arbor.frontend.header-timeout",
                HEADER_TIMEOUT_S + "s"), 0)) {
            SyntheticServers.awaitHealthy(node);
            byte[] head = "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    .getBytes(StandardCharsets.US_ASCII);
            List<Socket> slow = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread dripper = null;
            try {
                long opened = System.nanoTime();
                for (int i = 0; i < SLOW_CONNECTIONS; i++) slow.add(new Socket("127.0.0.1", node.port()));
                dripper = new Thread(() -> {
                    for (int b = 0; !stop.get(); b++) {
                        for (Socket s : slow) {
                            try {
                                s.getOutputStream().write(head[b % head.length]);
                            } catch (IOException e) {
                                // cut by the server: expected after the header timeout
                            }
                        }
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "slowloris");
                dripper.start();
                List<Long> normalMs = new ArrayList<>();
                for (int i = 0; i < NORMAL_REQUESTS; i++) {
                    long t0 = System.nanoTime();
                    var r = SyntheticServers.post(node, "/v1/completions",
                            "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":8}");
                    normalMs.add((System.nanoTime() - t0) / 1_000_000);
                    assertEquals(200, r.statusCode(), r.body());
                }
                long normalDoneS = (System.nanoTime() - opened) / 1_000_000_000;
                // every slow connection is closed by the server (EOF) once the header timeout has passed
                CancelBeforeFirstTokenTest.await(() -> closedByServer(slow) == slow.size(),
                        "the server closed all slow connections");
                long cutAfterS = (System.nanoTime() - opened) / 1_000_000_000;
                Collections.sort(normalMs);
                System.out.printf("SLOWLORIS %d slow connections at 1 byte/s: normal client %d/%d x 200 within %d s of"
                                + " opening them, median %d ms, max %d ms; all %d cut by %d s (header-timeout %d s)%n",
                        SLOW_CONNECTIONS, normalMs.size(), NORMAL_REQUESTS, normalDoneS,
                        normalMs.get(normalMs.size() / 2), normalMs.get(normalMs.size() - 1), slow.size(), cutAfterS,
                        HEADER_TIMEOUT_S);
                assertTrue(normalMs.get(normalMs.size() - 1) < NORMAL_BOUND_MS, normalMs.toString());
                assertEquals(200, SyntheticServers.get(node, "/health").statusCode());
            } finally {
                stop.set(true);
                if (dripper != null) dripper.join();
                for (Socket s : slow) s.close();
            }
        }
    }

    /** Connections whose server side has closed (EOF on read); polls each briefly. */
    static int closedByServer(List<Socket> sockets) {
        int closed = 0;
        for (Socket s : sockets) {
            try {
                s.setSoTimeout(1);
                if (s.getInputStream().read() == -1) closed++;
            } catch (SocketTimeoutException e) {
                // still open
            } catch (IOException e) {
                closed++; // reset by the server
            }
        }
        return closed;
    }
}

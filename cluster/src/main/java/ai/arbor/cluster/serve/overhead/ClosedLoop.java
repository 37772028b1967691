package ai.arbor.cluster.serve.overhead;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Closed-loop clients in this JVM: each keeps one HTTP/1.1 keep-alive connection and sends the next request as soon
 * as the last response ended, for a fixed time. Same JVM as the server, so client and engine timestamps share one
 * clock.
 */
final class ClosedLoop {

    /**
     * @param cpuNanos CPU time the whole process (server, engine and clients) used during the run
     */
    record Run(List<Exchange> exchanges, double seconds, long cpuNanos) {
        double rps() { return exchanges.size() / seconds; }

        double cpuMsPerRequest() { return exchanges.isEmpty() ? Double.NaN : cpuNanos / 1e6 / exchanges.size(); }

        Samples latencies() {
            Samples s = new Samples();
            for (Exchange e : exchanges) s.add(e.doneAt() - e.sentAt());
            return s;
        }
    }

    private ClosedLoop() {}

    /** POSTs {@code body} to /v1/chat/completions from {@code concurrency} connections for {@code seconds}. */
    static Run run(int port, String body, boolean streamed, int[] textEnds, int concurrency, double seconds)
            throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<List<Exchange>> perClient = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int t = 0; t < concurrency; t++) {
            List<Exchange> mine = new ArrayList<>();
            perClient.add(mine);
            Thread th = new Thread(() -> {
                ResponseReader reader = new ResponseReader(textEnds);
                try (Socket sock = new Socket("127.0.0.1", port)) {
                    sock.setTcpNoDelay(true);
                    OutputStream o = sock.getOutputStream();
                    InputStream in = new BufferedInputStream(sock.getInputStream(), 1 << 16);
                    while (!stop.get()) {
                        long sentAt = System.nanoTime();
                        o.write(request);
                        o.flush();
                        mine.add(reader.read(in, sentAt, streamed));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                } finally {
                    done.countDown();
                }
            }, "bench-client-" + t);
            th.setDaemon(true);
            th.start();
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        done.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        long cpu = os.getProcessCpuTime() - cpu0;
        if (failure.get() != null) throw new IllegalStateException("a client failed", failure.get());
        List<Exchange> all = new ArrayList<>();
        perClient.forEach(all::addAll);
        return new Run(all, elapsed, cpu);
    }
}

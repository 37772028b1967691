package ai.arbor.cluster.serve.overhead;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Closed-loop clients in this JVM: each keeps one HTTP/1.1 keep-alive connection and sends the next request as soon
 * as the last response ended, for a fixed time. Same JVM as the server, so client and engine timestamps share one
 * clock.
 */
final class ClosedLoop {

    /**
     * @param cpu CPU time the whole process (server, engine and clients) used during the run
     * @param clientCpuNanos the part of it the client threads used (reading and parsing responses)
     */
    record Run(List<Exchange> exchanges, double seconds, ProcessCpu cpu, long clientCpuNanos) {
        double rps() { return exchanges.size() / seconds; }

        /** CPU per request of everything in the process (server, engine, clients, JIT, GC). */
        double cpuMsPerRequest() { return exchanges.isEmpty() ? Double.NaN : cpu.totalNanos() / 1e6 / exchanges.size(); }

        /** CPU per request without the clients': what a server on its own would spend. */
        double serverCpuMsPerRequest() {
            return exchanges.isEmpty() ? Double.NaN : (cpu.totalNanos() - clientCpuNanos) / 1e6 / exchanges.size();
        }

        /** Server threads parking to be woken again, per request; NaN where unknown. */
        double wakeupsPerRequest() {
            return cpu.wakeups() < 0 || exchanges.isEmpty() ? Double.NaN : (double) cpu.wakeups() / exchanges.size();
        }

        /** The kernel's share of {@link #cpu}, in percent; NaN where unknown. */
        double systemPercent() {
            return cpu.systemNanos() < 0 ? Double.NaN : 100.0 * cpu.systemNanos() / Math.max(1, cpu.totalNanos());
        }

        Samples latencies() {
            Samples s = new Samples();
            for (Exchange e : exchanges) s.add(e.doneAt() - e.sentAt());
            return s;
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ClosedLoop() {}

    /**
     * What one client sends: the request for each output length in {@code [minTokens, maxTokens]}, picked at random
     * per request, and how long to wait before its first request, at random up to {@code maxStaggerNanos}.
     * Different lengths and start times keep the clients from falling into lockstep with a batch-synchronous engine
     * (all of them finishing, then arriving, in the same step), which no real workload does.
     */
    record Plan(int minTokens, int maxTokens, java.util.function.IntFunction<String> body, long maxStaggerNanos) {
        static Plan fixed(int tokens, java.util.function.IntFunction<String> body) {
            return new Plan(tokens, tokens, body, 0);
        }
    }

    /** POSTs the plan's requests to /v1/chat/completions from {@code concurrency} connections for {@code seconds}. */
    static Run run(int port, Plan plan, boolean streamed, int[] textEnds, int concurrency, double seconds)
            throws Exception {
        byte[][] requests = new byte[plan.maxTokens() + 1][];
        for (int n = plan.minTokens(); n <= plan.maxTokens(); n++) {
            String body = plan.body().apply(n);
            requests[n] = ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8);
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong clientCpu = new AtomicLong();
        List<List<Exchange>> perClient = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int t = 0; t < concurrency; t++) {
            List<Exchange> mine = new ArrayList<>();
            perClient.add(mine);
            Random random = new Random(t); // the same lengths in every run
            Thread th = new Thread(() -> {
                ResponseReader reader = new ResponseReader(textEnds);
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                try (Socket sock = new Socket("127.0.0.1", port)) {
                    sock.setTcpNoDelay(true);
                    OutputStream o = sock.getOutputStream();
                    InputStream in = new BufferedInputStream(sock.getInputStream(), 1 << 16);
                    if (plan.maxStaggerNanos() > 0) Thread.sleep(random.nextLong(plan.maxStaggerNanos()) / 1_000_000);
                    while (!stop.get()) {
                        int tokens = plan.minTokens() + random.nextInt(plan.maxTokens() - plan.minTokens() + 1);
                        long sentAt = System.nanoTime();
                        o.write(requests[tokens]);
                        o.flush();
                        mine.add(reader.read(in, sentAt, streamed ? tokens : 0));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                } finally {
                    clientCpu.addAndGet(THREADS.getCurrentThreadCpuTime() - cpuStart);
                    done.countDown();
                }
            }, "bench-client-" + t);
            th.setDaemon(true);
            th.start();
        }
        ProcessCpu cpu0 = ProcessCpu.now();
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        done.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        ProcessCpu cpu = ProcessCpu.now().minus(cpu0);
        if (failure.get() != null) throw new IllegalStateException("a client failed", failure.get());
        List<Exchange> all = new ArrayList<>();
        perClient.forEach(all::addAll);
        return new Run(all, elapsed, cpu, clientCpu.get());
    }
}

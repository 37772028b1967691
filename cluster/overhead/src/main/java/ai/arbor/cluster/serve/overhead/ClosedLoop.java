package ai.arbor.cluster.serve.overhead;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Closed-loop clients in this JVM: each keeps one HTTP/1.1 keep-alive connection and sends the next request as soon
 * as the last response ended, for a fixed time. Same JVM as the server, so client and engine timestamps share one
 * clock; a few threads drive them all (see {@link #clientThreads}).
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

    /** One client: its connection, what it waits for, and what it saw. */
    private static final class Client {
        final SocketChannel channel;
        final Random random;
        final ResponseReader reader;
        final List<Exchange> exchanges = new ArrayList<>();
        SelectionKey key;
        long startAt;
        boolean started;

        Client(SocketChannel channel, Random random, ResponseReader reader) {
            this.channel = channel;
            this.random = random;
            this.reader = reader;
        }
    }

    /**
     * Client threads: one per four cores, at least one. One thread drives many connections through a selector, as
     * load generators do (a thread per connection would wake once per token per client, and on two cores those
     * wake-ups are most of what a client costs the server); on a bigger machine one thread reading every connection
     * in turn would itself delay the last of a step's tokens, so there are more.
     */
    static int clientThreads() { return Math.max(1, Runtime.getRuntime().availableProcessors() / 4); }

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
        List<Client> clients = new ArrayList<>();
        try {
            for (int t = 0; t < concurrency; t++) {
                SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.configureBlocking(false);
                clients.add(new Client(ch, new Random(t), new ResponseReader(textEnds))); // the same lengths every run
            }
            int threads = Math.min(concurrency, clientThreads());
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong clientCpu = new AtomicLong();
            CountDownLatch done = new CountDownLatch(threads);
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            for (Client c : clients) {
                c.startAt = start + (plan.maxStaggerNanos() > 0 ? c.random.nextLong(plan.maxStaggerNanos()) : 0);
            }
            ProcessCpu cpu0 = ProcessCpu.now();
            for (int t = 0; t < threads; t++) {
                List<Client> mine = new ArrayList<>();
                for (int i = t; i < clients.size(); i += threads) mine.add(clients.get(i));
                Thread th = new Thread(() -> {
                    long cpuStart = THREADS.getCurrentThreadCpuTime();
                    try {
                        drive(mine, plan, requests, streamed, end);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        clientCpu.addAndGet(THREADS.getCurrentThreadCpuTime() - cpuStart);
                        done.countDown();
                    }
                }, "bench-client-" + t);
                th.setDaemon(true);
                th.start();
            }
            done.await();
            double elapsed = (System.nanoTime() - start) / 1e9;
            ProcessCpu cpu = ProcessCpu.now().minus(cpu0);
            if (failure.get() != null) throw new IllegalStateException("a client failed", failure.get());
            List<Exchange> all = new ArrayList<>();
            clients.forEach(c -> all.addAll(c.exchanges));
            return new Run(all, elapsed, cpu, clientCpu.get());
        } finally {
            for (Client c : clients) c.channel.close();
        }
    }

    /** One client thread: its connections' requests and responses until {@code end}, then their last responses. */
    private static void drive(List<Client> clients, Plan plan, byte[][] requests, boolean streamed, long end)
            throws IOException {
        try (Selector selector = Selector.open()) {
            for (Client c : clients) c.key = c.channel.register(selector, 0, c);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
            int open = clients.size();
            while (open > 0) {
                long now = System.nanoTime();
                long nextStart = Long.MAX_VALUE;
                for (Client c : clients) {
                    if (c.started) continue;
                    if (c.startAt <= now) {
                        c.started = true;
                        send(c, plan, requests, streamed, now);
                    } else {
                        nextStart = Math.min(nextStart, c.startAt);
                    }
                }
                long waitMs = nextStart == Long.MAX_VALUE ? 0 : Math.max(1, (nextStart - now) / 1_000_000);
                if (selector.select(waitMs) == 0) continue;
                for (SelectionKey key : selector.selectedKeys()) {
                    Client c = (Client) key.attachment();
                    buf.clear();
                    int n = c.channel.read(buf);
                    long at = System.nanoTime();
                    if (n < 0) throw new IOException("connection closed");
                    buf.flip();
                    Exchange x = c.reader.feed(buf, at);
                    if (x == null) continue;
                    if (buf.hasRemaining()) throw new IOException("bytes after a response to one request");
                    c.exchanges.add(x);
                    if (at < end) {
                        send(c, plan, requests, streamed, at);
                    } else {
                        key.interestOps(0);
                        open--;
                    }
                }
                selector.selectedKeys().clear();
            }
        }
    }

    /** Writes the client's next request (small enough for the socket's buffer) and arms it for the response. */
    private static void send(Client c, Plan plan, byte[][] requests, boolean streamed, long now) throws IOException {
        int tokens = plan.minTokens() + c.random.nextInt(plan.maxTokens() - plan.minTokens() + 1);
        c.reader.expect(now, streamed ? tokens : 0);
        ByteBuffer req = ByteBuffer.wrap(requests[tokens]);
        while (req.hasRemaining()) c.channel.write(req);
        c.key.interestOps(SelectionKey.OP_READ);
    }
}

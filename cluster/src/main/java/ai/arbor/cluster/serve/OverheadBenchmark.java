package ai.arbor.cluster.serve;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.http.SingleNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The serving path's own overhead: {@code arbor serve} with the synthetic engine (every token instantly) and the
 * model's real tokenizer, driven over HTTP/1.1 keep-alive connections by closed-loop clients in the same JVM. Since
 * the engine takes no time, every microsecond measured is HTTP parsing, validation, tokenizing, templating, actor
 * messaging, detokenizing, JSON and SSE framing (plus the tiny client's own cost).
 *
 * <p>Usage: {@code OverheadBenchmark [concurrency=64] [seconds=15] [maxTokens=16] [model=models/tiny-qwen2]}.
 */
public final class OverheadBenchmark {

    /** @param cpuNanos CPU time the whole process (server and clients) used during the run */
    record Result(String workload, int concurrency, long requests, double seconds, long[] latenciesNanos, long cpuNanos) {
        double rps() { return requests / seconds; }

        double cpuMsPerRequest() { return requests == 0 ? Double.NaN : cpuNanos / 1e6 / requests; }

        double percentileMs(double p) {
            if (latenciesNanos.length == 0) return Double.NaN;
            int i = (int) Math.min(latenciesNanos.length - 1, Math.ceil(p / 100 * latenciesNanos.length) - 1);
            return latenciesNanos[Math.max(0, i)] / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        int concurrency = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        String model = args.length > 3 ? args[3] : "models/tiny-qwen2";
        PrintStream out = System.out;
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.device", "synthetic",
                "arbor.model", model, "arbor.frontend.max-queued-requests", 100_000), null, System.getenv()));
        try (LoadedModel loaded = LoadedModel.load(s, System.err);
             SingleNode node = SingleNode.start(s, loaded.spec(), loaded.engine())) {
            String name = s.servedModelName();
            String chat = "{\"model\":\"" + name + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                    + "\"Explain distributed systems in 2 sentences.\"}],\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true";
            List<Result> results = new ArrayList<>();
            // warm the JIT on both workloads first, so that no measured run pays for compilation
            for (boolean stream : new boolean[] {false, true}) {
                run(node.port(), chat + (stream ? ",\"stream\":true}" : "}"), concurrency, Math.min(5, seconds), "warm-up");
            }
            for (int c : new int[] {1, concurrency}) {
                for (boolean stream : new boolean[] {false, true}) {
                    String body = chat + (stream ? ",\"stream\":true}" : "}");
                    String label = "chat, " + (stream ? "streamed (SSE)" : "one JSON") + ", " + maxTokens + " tokens";
                    run(node.port(), body, c, Math.min(3, seconds), label); // warm-up: JIT, connections
                    Result r = run(node.port(), body, c, seconds, label);
                    results.add(r);
                    System.err.printf(Locale.ROOT, "%s, concurrency %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, CPU %.2f ms/req%n",
                            label, c, r.rps(), r.percentileMs(50), r.percentileMs(99), r.cpuMsPerRequest());
                }
            }
            out.println("| workload | concurrency | requests/s | tokens/s | latency p50 | latency p99 | CPU per request |");
            out.println("|---|---:|---:|---:|---:|---:|---:|");
            for (Result r : results) {
                out.printf(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.2f ms | %.2f ms | %.2f ms |%n", r.workload(),
                        r.concurrency(), r.rps(), r.rps() * maxTokens, r.percentileMs(50), r.percentileMs(99),
                        r.cpuMsPerRequest());
            }
        }
        System.exit(0);
    }

    static Result run(int port, String body, int concurrency, int seconds, String label) throws Exception {
        byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
        AtomicBoolean stop = new AtomicBoolean();
        List<long[]> perThread = new ArrayList<>();
        long[] counts = new long[concurrency];
        CountDownLatch done = new CountDownLatch(concurrency);
        Throwable[] failure = {null};
        for (int t = 0; t < concurrency; t++) {
            long[] lat = new long[1 << 20];
            perThread.add(lat);
            int id = t;
            Thread th = new Thread(() -> {
                try (Socket sock = new Socket("127.0.0.1", port)) {
                    sock.setTcpNoDelay(true);
                    OutputStream o = sock.getOutputStream();
                    InputStream in = new BufferedInputStream(sock.getInputStream(), 1 << 16);
                    while (!stop.get() && counts[id] < lat.length) {
                        long t0 = System.nanoTime();
                        o.write(request);
                        o.flush();
                        readResponse(in);
                        lat[(int) counts[id]++] = System.nanoTime() - t0;
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                } finally {
                    done.countDown();
                }
            }, "bench-client-" + t);
            th.setDaemon(true);
            th.start();
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        done.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        long cpu = os.getProcessCpuTime() - cpu0;
        if (failure[0] != null) throw new IllegalStateException(label + ": client failed", failure[0]);
        long total = Arrays.stream(counts).sum();
        long[] all = new long[(int) total];
        int k = 0;
        for (int t = 0; t < concurrency; t++) {
            System.arraycopy(perThread.get(t), 0, all, k, (int) counts[t]);
            k += (int) counts[t];
        }
        Arrays.sort(all);
        return new Result(label, concurrency, total, elapsed, all, cpu);
    }

    /** Reads one HTTP/1.1 response (Content-Length or chunked) and checks its status. */
    static void readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (!status.startsWith("HTTP/1.1 200")) throw new IOException("unexpected status: " + status);
        long length = -1;
        boolean chunked = false;
        for (String h; !(h = line(in)).isEmpty(); ) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) length = Long.parseLong(h.substring(15).trim());
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
        }
        if (!chunked) {
            in.skipNBytes(length);
            return;
        }
        while (true) {
            long size = Long.parseLong(line(in).split(";")[0].trim(), 16);
            if (size == 0) {
                while (!line(in).isEmpty()) { /* trailers */ }
                return;
            }
            in.skipNBytes(size);
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new IOException("connection closed");
            if (c != '\r') sb.append((char) c);
        }
        return sb.toString();
    }
}

package ai.arbor.cluster.serve.overhead;

import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.actors.frontend.TextDecoder;
import ai.arbor.actors.synthetic.EngineTimestamps;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.config.ArborSettings;
import ai.arbor.cluster.serve.SingleNode;
import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The two parts of the overhead benchmark (see {@code OverheadBenchmark}) and their tables. */
public final class OverheadRuns {
    /** What every request outputs, token by token: plain ASCII words, so every token is one visible SSE chunk. */
    private static final String SCRIPT = "Distributed systems share state across unreliable networks, so every node "
            + "must tolerate delays, partitions and failures of its peers.";

    private final ArborSettings settings;
    private final SingleNode.ModelSpec spec;
    private final int concurrency;
    private final int seconds;
    private final int maxTokens;
    private final double stepMs;
    private final PrintStream out;
    private final PrintStream progress;
    private final int[] script;
    private final int[] textEnds;

    public OverheadRuns(ArborSettings settings, SingleNode.ModelSpec spec, int concurrency, int seconds, int maxTokens,
                        double stepMs, PrintStream out, PrintStream progress) {
        this.settings = settings;
        this.spec = spec;
        this.concurrency = concurrency;
        this.seconds = seconds;
        this.maxTokens = maxTokens;
        this.stepMs = stepMs;
        this.out = out;
        this.progress = progress;
        List<String> texts = new ArrayList<>();
        this.script = script(spec.tokenizer(), texts);
        this.textEnds = new int[pacedMaxTokens()];
        int length = 0;
        for (int k = 0; k < textEnds.length; k++) textEnds[k] = length += texts.get(k % texts.size()).length();
    }

    /** The script's tokens that decode, on their own, to plain ASCII text (no special tokens, quotes, escapes). */
    private static int[] script(ModelTokenizer tokenizer, List<String> texts) {
        TextDecoder decoder = tokenizer.newDecoder(new int[0]);
        List<Integer> ids = new ArrayList<>();
        for (int id : tokenizer.encodePrompt(SCRIPT)) {
            String text = decoder.next(id);
            if (!text.isEmpty() && text.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\')) {
                ids.add(id);
                texts.add(text);
            }
        }
        if (ids.isEmpty()) throw new IllegalStateException("no token of the script decodes to plain text");
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Profiling aid: the paced part at concurrency N only. */
    private boolean pacedOnlyAtN;

    public void run(boolean instant, boolean paced, boolean pacedOnlyAtN, boolean floor) throws Exception {
        this.pacedOnlyAtN = pacedOnlyAtN;
        RequestLogToFile.redirect(Path.of(System.getProperty("java.io.tmpdir"), "arbor-overhead-requests.log"));
        if (instant || paced) warmUp();
        List<String> instantRows = instant ? instantEngine() : List.of();
        List<String> pacedRows = paced ? pacedEngine() : List.of();
        if (instant) {
            out.printf(Locale.ROOT, "Instant engine: throughput of the serving path (%d output tokens per request)%n%n",
                    maxTokens);
            out.println("| workload | concurrency | requests/s | tokens/s | latency p50 | latency p99 | CPU per request "
                    + "| of which server |");
            out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
            instantRows.forEach(out::println);
            out.println();
        }
        if (paced) {
            out.printf(Locale.ROOT, "Paced engine (one step every %s ms for the whole batch), output lengths uniform in "
                    + "%d–%d: latency added to the engine's own%n%n", fmt(stepMs), pacedMinTokens(), pacedMaxTokens());
            out.println("| workload | concurrency | requests/s | engine TTFT p50 | TTFT added p50 / p99 | ITL added p50 / p99 "
                    + "| E2E added p50 / p99 | request → engine p50 | token → client p50 / p99 | CPU per request "
                    + "| of which server |");
            out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            pacedRows.forEach(out::println);
            out.println();
        }
        if (floor) {
            long stepNanos = (long) (stepMs * 1e6);
            int threads = ClosedLoop.clientThreads();
            Samples d = DeliveryFloor.run(concurrency, stepNanos, (int) (seconds * 1e9 / stepNanos), threads);
            out.printf(Locale.ROOT, "Floor of token → client with no server (%d thread(s) write a chunk to each of %d "
                    + "connections every %s ms, as many selector threads read): p50 %s, p99 %s%n", threads,
                    concurrency, fmt(stepMs), ms(d.percentileMs(50)), ms(d.percentileMs(99)));
        }
    }

    /**
     * Runs both workloads flat out on the instant engine first, so that no measured run (of either part) pays for
     * the JIT: on two cores, C2 compiling the serving path competes with it for a good minute.
     */
    private void warmUp() throws Exception {
        try (SingleNode node = SingleNode.start(settings, spec, engine(0, EngineTimestamps.NONE))) {
            for (int round = 0; round < 2; round++) {
                for (boolean stream : new boolean[] {false, true}) {
                    run(node, stream, instantPlan(stream), concurrency, Math.min(10, seconds));
                }
            }
        }
    }

    private List<String> instantEngine() throws Exception {
        List<String> rows = new ArrayList<>();
        try (SingleNode node = SingleNode.start(settings, spec, engine(0, EngineTimestamps.NONE))) {
            for (int c : new int[] {1, concurrency}) {
                for (boolean stream : new boolean[] {false, true}) {
                    untilJitQuiet("instant engine, " + workload(stream, maxTokens + "") + ", concurrency " + c,
                            () -> run(node, stream, instantPlan(stream), c, Math.min(3, seconds)));
                    ClosedLoop.Run r = run(node, stream, instantPlan(stream), c, seconds);
                    Samples lat = r.latencies();
                    progress.printf(Locale.ROOT, "instant engine, %s, concurrency %d: %.0f req/s, p50 %.2f ms, "
                                    + "p99 %.2f ms, CPU %.2f ms/req (server %.2f, %.0f%% in the kernel), %.1f wake-ups/req%n",
                            workload(stream, maxTokens + ""), c, r.rps(), lat.percentileMs(50), lat.percentileMs(99),
                            r.cpuMsPerRequest(), r.serverCpuMsPerRequest(), r.systemPercent(), r.wakeupsPerRequest());
                    rows.add(String.format(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.2f ms | %.2f ms | %.2f ms | %.2f ms |",
                            workload(stream, maxTokens + ""), c, r.rps(), r.rps() * maxTokens, lat.percentileMs(50),
                            lat.percentileMs(99), r.cpuMsPerRequest(), r.serverCpuMsPerRequest()));
                }
            }
        }
        return rows;
    }

    private List<String> pacedEngine() throws Exception {
        List<String> rows = new ArrayList<>();
        EngineTimeline timeline = new EngineTimeline(pacedMaxTokens());
        long stepNanos = (long) (stepMs * 1e6);
        String lengths = pacedMinTokens() + "–" + pacedMaxTokens();
        try (SingleNode node = SingleNode.start(settings, spec, engine(stepNanos, timeline))) {
            // concurrency 1: the path's own latency; N: what a full batch adds (its tokens come out together)
            for (int c : pacedOnlyAtN ? new int[] {concurrency} : new int[] {1, concurrency}) {
                for (boolean stream : new boolean[] {true, false}) {
                    rows.add(pacedRun(node, timeline, stream, c, stepNanos, lengths));
                }
            }
        }
        return rows;
    }

    private String pacedRun(SingleNode node, EngineTimeline timeline, boolean stream, int c, long stepNanos,
                            String lengths) throws Exception {
        var plan = new ClosedLoop.Plan(pacedMinTokens(), pacedMaxTokens(), n -> body(stream, n),
                stepNanos * maxTokens);
        untilJitQuiet("paced engine, " + workload(stream, lengths) + ", concurrency " + c,
                () -> run(node, stream, plan, c, Math.min(5, seconds)));
        timeline.clear();
        ClosedLoop.Run r = run(node, stream, plan, c, seconds);
        AddedLatency a = AddedLatency.of(r.exchanges(), timeline);
        if (a.unmatched > 0) throw new IllegalStateException(a.unmatched + " requests have no engine timestamps");
        progress.printf(Locale.ROOT, "paced engine, %s, concurrency %d: %.0f req/s, TTFT added p50 %.3f ms, "
                        + "E2E added p50 %.3f ms, CPU %.2f ms/req (server %.2f, %.0f%% in the kernel), %.1f wake-ups/req%n",
                workload(stream, lengths), c, r.rps(), a.ttft.percentileMs(50), a.e2e.percentileMs(50),
                r.cpuMsPerRequest(), r.serverCpuMsPerRequest(), r.systemPercent(), r.wakeupsPerRequest());
        return String.format(Locale.ROOT, "| %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %.2f ms | %.2f ms |",
                workload(stream, lengths), c, r.rps(), ms(a.engineTtft.percentileMs(50)), pair(a.ttft),
                pair(a.itl), pair(a.e2e), ms(a.toEngine.percentileMs(50)), pair(a.delivery),
                r.cpuMsPerRequest(), r.serverCpuMsPerRequest());
    }

    /** A measured run must not share the cores with C2, which takes them for tens of seconds on two. */
    private static final double JIT_QUIET = 0.02;
    private static final int MAX_WARM_UP_RUNS = 10;

    /**
     * Repeats an unmeasured run until the JIT compiled for less than 2% of its wall time: each part takes paths the
     * instant warm-up never took (timers, threads parking between steps), and the JIT compiled thousands of methods
     * during the measured paced run before this (BENCHMARKS.md, "Night run").
     */
    private void untilJitQuiet(String what, ThrowingRunnable run) throws Exception {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        for (int i = 1; ; i++) {
            long jit0 = jit.getTotalCompilationTime();
            long t0 = System.nanoTime();
            run.run();
            double share = (jit.getTotalCompilationTime() - jit0) / ((System.nanoTime() - t0) / 1e6);
            if (share < JIT_QUIET || i == MAX_WARM_UP_RUNS) {
                progress.printf(Locale.ROOT, "%s: warmed up in %d runs (JIT %.1f%% of the last)%n", what, i,
                        100 * share);
                return;
            }
        }
    }

    private SyntheticEngine engine(long stepNanos, EngineTimestamps timestamps) {
        return new SyntheticEngine(spec.maxModelLen(), settings.engine().blockSize(), spec.tokenizer().eosTokenIds(),
                stepNanos, script, timestamps);
    }

    /** The paced part varies output lengths around {@code maxTokens} (same mean), see {@link ClosedLoop.Plan}. */
    private int pacedMinTokens() { return Math.max(1, maxTokens / 2); }

    private int pacedMaxTokens() { return maxTokens + (maxTokens - pacedMinTokens()); }

    private ClosedLoop.Plan instantPlan(boolean stream) { return ClosedLoop.Plan.fixed(maxTokens, n -> body(stream, n)); }

    private ClosedLoop.Run run(SingleNode node, boolean stream, ClosedLoop.Plan plan, int c, double secs) throws Exception {
        return ClosedLoop.run(node.port(), plan, stream, textEnds, c, secs);
    }

    private String body(boolean stream, int tokens) {
        return "{\"model\":\"" + settings.servedModelName() + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Explain distributed systems in 2 sentences.\"}],\"max_tokens\":" + tokens
                + ",\"ignore_eos\":true" + (stream ? ",\"stream\":true}" : "}");
    }

    private static String workload(boolean stream, String tokens) {
        return "chat, " + (stream ? "streamed (SSE)" : "one JSON") + ", " + tokens + " tokens";
    }

    private static String pair(Samples s) {
        if (s.size() == 0) return "–";
        return ms(s.percentileMs(50)) + " / " + ms(s.percentileMs(99));
    }

    private static String ms(double v) { return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f ms", v); }

    private static String fmt(double v) { return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v); }
}

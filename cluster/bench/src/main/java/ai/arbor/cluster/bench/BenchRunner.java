package ai.arbor.cluster.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Runs one benchmark end to end: check the server, make the prompts, drive them, report. */
public final class BenchRunner {
    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;
    private final Function<Path, PromptTokenizer> tokenizers;
    private PromptTokenizer tokenizer;

    public BenchRunner(PrintStream out, PrintStream err, boolean terminal) {
        this(out, err, terminal, HfPromptTokenizer::load);
    }

    BenchRunner(PrintStream out, PrintStream err, boolean terminal, Function<Path, PromptTokenizer> tokenizers) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
        this.tokenizers = tokenizers;
    }

    public BenchReport run(BenchSettings s) {
        if (s.output() != null && s.output().getParent() != null && !Files.isDirectory(s.output().getParent())) {
            throw new BenchException("--output directory does not exist: " + s.output().getParent());
        }
        if (s.plot() != null && s.plot().getParent() != null && !Files.isDirectory(s.plot().getParent())) {
            throw new BenchException("--plot directory does not exist: " + s.plot().getParent());
        }
        try (StreamingClient client = new StreamingClient(s.url(), null, s.endpoint(), s.timeout())) {
            String model = ServerProbe.resolveModel(client.http(), s.url(), s.model());
            BenchSettings settings = s.withModel(model);
            List<BenchPrompt> prompts = dataset(settings).prompts();
            long[] arrivals = ArrivalSchedule.offsetsNanos(prompts.size(), settings.requestRate(), settings.seed());
            err.printf("arbor bench: %d %s requests to %s (model %s, sampling: %s)%n", prompts.size(),
                    settings.endpoint().name().toLowerCase(java.util.Locale.ROOT), settings.url(), model,
                    settings.sampling().describe());
            RequestDriver.Listener listener = settings.progress()
                    ? new ProgressBar(err, prompts.size(), terminal) : r -> { };
            Instant startedAt = Instant.now();
            RequestDriver.Run run;
            Optional<PrometheusText> before;
            try (StreamingClient modelClient = new StreamingClient(settings.url(), model, settings.endpoint(),
                    settings.timeout(), settings.sampling())) {
                warmUp(modelClient, warmUpPrompts(settings, prompts), settings.warmup());
                before = ServerMetrics.scrapeFresh(client.http(), settings.url(), ServerMetrics.MAX_TICK_WAIT);
                run = new RequestDriver(modelClient).run(prompts, arrivals, settings.concurrency(), listener);
            }
            Map<String, Double> serverDeltas = before.flatMap(b -> ServerMetrics.scrapeFresh(client.http(),
                    settings.url(), ServerMetrics.MAX_TICK_WAIT).map(after -> after.counterDeltas(b))).orElse(null);
            BenchReport report = ReportBuilder.build(settings, run, startedAt, serverDeltas);
            ReportPrinter.print(report, out);
            if (settings.output() != null) {
                ReportJson.write(report, settings.output());
                err.println("arbor bench: wrote " + settings.output());
            }
            if (settings.plot() != null) {
                PlotWriter.write(report, settings.plot());
                err.println("arbor bench: wrote " + settings.plot());
            }
            return report;
        }
    }

    /**
     * Sends a few prompts one at a time before the clock starts: a fresh server compiles its hot paths on the first
     * requests, and a request the server rejects (wrong model, prompt too long) stops the run with its reason
     * instead of failing every request.
     */
    private void warmUp(StreamingClient client, List<BenchPrompt> prompts, int n) {
        if (n == 0) {
            return;
        }
        err.printf("arbor bench: warming up with %d request%s…%n", n, n == 1 ? "" : "s");
        for (int i = 0; i < n; i++) {
            RequestResult r = client.send(-1 - i, prompts.get(i % prompts.size())).join();
            if (!r.success()) {
                throw new BenchException("the warm-up request failed (" + r.errorKind() + "): " + r.error());
            }
        }
    }

    /**
     * Warm-up prompts that are not in the measured set, so the run's first requests find nothing of theirs in the
     * prefix cache; a file dataset has no generator, so it warms up with its own first prompts.
     */
    private List<BenchPrompt> warmUpPrompts(BenchSettings s, List<BenchPrompt> measured) {
        if (s.warmup() == 0 || s.dataset().equals("file")) {
            return measured;
        }
        int len = s.dataset().equals("shared-prefix") ? s.prefixLen() + s.inputLen() : s.inputLen();
        return new RandomDataset(tokenizer(s), s.warmup(), len, s.outputLen(), ~s.seed()).prompts();
    }

    private PromptTokenizer tokenizer(BenchSettings s) {
        if (tokenizer == null) {
            tokenizer = tokenizers.apply(TokenizerLookup.find(s.model(), s.tokenizerDir()));
        }
        return tokenizer;
    }

    private Dataset dataset(BenchSettings s) {
        return switch (s.dataset()) {
            case "random" -> new RandomDataset(tokenizer(s), s.numPrompts(), s.inputLen(),
                    s.outputLen(), s.seed());
            case "shared-prefix" -> new SharedPrefixDataset(tokenizer(s), s.numGroups(),
                    s.promptsPerGroup(), s.prefixLen(), s.inputLen(), s.outputLen(), s.seed());
            case "file" -> new FileDataset(s.datasetPath(), s.numPrompts(), s.outputLen());
            default -> throw new BenchException("unknown dataset " + s.dataset());
        };
    }
}

package ai.arbor.cluster.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code arbor bench}: measures an OpenAI-compatible server the way {@code vllm bench serve} does. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load-test an OpenAI-compatible server with streaming requests and report throughput and "
                + "TTFT/TPOT/ITL/E2E latency percentiles."},
        footer = {"", "Examples:",
                "  arbor bench --url http://127.0.0.1:8000 --num-prompts 100 --concurrency 8 --input-len 128 "
                        + "--output-len 64",
                "  arbor bench --url http://127.0.0.1:8000 --dataset shared-prefix --num-groups 4 "
                        + "--prompts-per-group 25 --prefix-len 512 --request-rate 4 --plot run.html",
                "",
                "The server's prefix cache outlives a run: repeat a run with another --seed (or restart the server) "
                        + "to measure prompts it has not seen.",
                "When the server serves /metrics, the report adds how its counters grew during the run; the bench "
                        + "waits for the server's next metrics tick (at most ~10 s) before and after the run for that."})
public final class BenchCommand implements Callable<Integer> {
    static final int EXIT_USAGE = 2;

    @Option(names = "--url", required = true, paramLabel = "URL", description = "Server base URL, e.g. http://127.0.0.1:8000")
    String url;

    @Option(names = "--model", paramLabel = "NAME", description = "Model name (default: the server's first model)")
    String model;

    @Option(names = "--endpoint", paramLabel = "chat|completions", defaultValue = "chat",
            description = "API route to drive (default: ${DEFAULT-VALUE})")
    String endpoint;

    @Option(names = "--dataset", paramLabel = "random|shared-prefix|file|FILE.jsonl", defaultValue = "random",
            description = "Prompt source (default: ${DEFAULT-VALUE}); a .jsonl path means 'file'")
    String dataset;

    @Option(names = "--dataset-path", paramLabel = "FILE", description = "JSONL file of prompts for --dataset file")
    Path datasetPath;

    @Option(names = "--num-prompts", paramLabel = "N",
            description = "Requests to send (default 100; shared-prefix: groups x prompts-per-group)")
    Integer numPrompts;

    @Option(names = "--concurrency", paramLabel = "C", defaultValue = "0",
            description = "Most requests in flight at once; 0 = no limit (default)")
    int concurrency;

    @Option(names = "--request-rate", paramLabel = "R", defaultValue = "inf",
            description = "Poisson arrival rate in requests/s; inf sends all at once (default)")
    String requestRate;

    @Option(names = "--input-len", paramLabel = "L", defaultValue = "128",
            description = "Prompt tokens (random), or unique suffix tokens after the prefix (shared-prefix); "
                    + "default ${DEFAULT-VALUE}")
    int inputLen;

    @Option(names = "--output-len", paramLabel = "L", defaultValue = "64",
            description = "Tokens to generate per request (max_tokens with ignore_eos); default ${DEFAULT-VALUE}")
    int outputLen;

    @Option(names = "--prefix-len", paramLabel = "L", defaultValue = "256",
            description = "Common prefix tokens per group (shared-prefix); default ${DEFAULT-VALUE}")
    int prefixLen;

    @Option(names = "--num-groups", paramLabel = "G", defaultValue = "4",
            description = "Prefix groups (shared-prefix); default ${DEFAULT-VALUE}")
    int numGroups;

    @Option(names = "--prompts-per-group", paramLabel = "P",
            description = "Prompts per group (shared-prefix); default num-prompts / groups")
    Integer promptsPerGroup;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of prompts and arrivals")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Model directory whose tokenizer.json shapes random prompts (default: the served model's, "
                    + "found by its name as a directory or under models/)")
    Path tokenizer;

    @Option(names = "--output", paramLabel = "FILE.json", description = "Write the full result as JSON")
    Path output;

    @Option(names = "--plot", paramLabel = "FILE.html|FILE.png|FILE.svg",
            description = "Draw latency distributions and throughput over time")
    Path plot;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "Per-request limit on waiting for the response to start; default ${DEFAULT-VALUE}")
    int timeoutSeconds;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1",
            description = "Requests sent one at a time first and left out of the figures; the first also checks "
                    + "that the server accepts the arguments (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--temperature", paramLabel = "T",
            description = "temperature sent with every request (default: the server's)")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "top_p sent with every request (default: the server's)")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "top_k sent with every request (default: the server's)")
    Integer topK;

    @Option(names = "--no-progress", description = "No progress bar")
    boolean noProgress;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintStream err = spec != null ? new PrintStream(new WriterOutputStream(spec.commandLine().getErr()), true)
                : System.err;
        PrintStream out = spec != null ? new PrintStream(new WriterOutputStream(spec.commandLine().getOut()), true)
                : System.out;
        BenchSettings settings;
        try {
            settings = settings();
        } catch (BenchException e) {
            err.println("arbor bench: " + e.getMessage());
            return EXIT_USAGE;
        }
        try {
            BenchReport report = new BenchRunner(out, err, System.console() != null).run(settings);
            return report.completed() > 0 ? 0 : 1;
        } catch (BenchException e) {
            err.println("arbor bench: " + e.getMessage());
            return 1;
        }
    }

    /** Checks every argument and says which one is wrong; nothing is contacted yet. */
    BenchSettings settings() {
        URI base = parseUrl(url);
        Endpoint ep = Endpoint.parse(endpoint);
        String kind = dataset.toLowerCase(Locale.ROOT);
        Path file = datasetPath;
        if (!kind.equals("random") && !kind.equals("shared-prefix") && !kind.equals("file")) {
            if (dataset.endsWith(".jsonl") || dataset.endsWith(".json") || Files.isRegularFile(Path.of(dataset))) {
                file = Path.of(dataset);
                kind = "file";
            } else {
                throw new BenchException("--dataset must be random, shared-prefix, file or a .jsonl path, not '"
                        + dataset + "'");
            }
        }
        if (kind.equals("file")) {
            if (file == null) {
                throw new BenchException("--dataset file needs --dataset-path FILE");
            }
            if (!Files.isRegularFile(file)) {
                throw new BenchException("dataset file not found: " + file);
            }
        }
        double rate = parseRate(requestRate);
        positive("--output-len", outputLen);
        if (concurrency < 0) {
            throw new BenchException("--concurrency must be 0 (no limit) or positive, not " + concurrency);
        }
        if (warmup < 0) {
            throw new BenchException("--warmup must be 0 or more, not " + warmup);
        }
        if (timeoutSeconds <= 0) {
            throw new BenchException("--timeout must be positive, not " + timeoutSeconds);
        }
        int n = numPrompts == null ? 100 : numPrompts;
        int perGroup = 0;
        if (kind.equals("shared-prefix")) {
            positive("--num-groups", numGroups);
            positive("--prefix-len", prefixLen);
            positive("--input-len", inputLen);
            if (promptsPerGroup != null) {
                positive("--prompts-per-group", promptsPerGroup);
                perGroup = promptsPerGroup;
                if (numPrompts != null && numPrompts != numGroups * perGroup) {
                    throw new BenchException("--num-prompts " + numPrompts + " disagrees with --num-groups "
                            + numGroups + " x --prompts-per-group " + perGroup);
                }
            } else {
                if (n % numGroups != 0 || n < numGroups) {
                    throw new BenchException("--num-prompts " + n + " is not a multiple of --num-groups " + numGroups);
                }
                perGroup = n / numGroups;
            }
            n = numGroups * perGroup;
        } else if (kind.equals("random")) {
            positive("--input-len", inputLen);
        }
        positive("--num-prompts", n);
        if (plot != null) {
            PlotWriter.checkName(plot);
        }
        RequestSampling sampling = new RequestSampling(temperature, topP, topK);
        Path tok = tokenizer; // null: the served model's, looked up once the server has named it
        return new BenchSettings(base, model, ep, kind, n, concurrency, rate, inputLen, outputLen, prefixLen,
                numGroups, perGroup, seed, file, tok, output, plot, Duration.ofSeconds(timeoutSeconds), !noProgress,
                warmup, sampling);
    }

    static URI parseUrl(String s) {
        String trimmed = s.strip();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.endsWith("/v1")) {
            trimmed = trimmed.substring(0, trimmed.length() - 3);
        }
        try {
            URI uri = new URI(trimmed);
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                throw new BenchException("--url must look like http://HOST:PORT, not '" + s + "'");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new BenchException("--url must look like http://HOST:PORT, not '" + s + "'");
        }
    }

    static double parseRate(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        if (v.equals("inf") || v.equals("infinity")) {
            return Double.POSITIVE_INFINITY;
        }
        try {
            double r = Double.parseDouble(v);
            if (!(r > 0) || Double.isNaN(r)) {
                throw new BenchException("--request-rate must be positive or inf, not '" + s + "'");
            }
            return r;
        } catch (NumberFormatException e) {
            throw new BenchException("--request-rate must be a number of requests/s or inf, not '" + s + "'");
        }
    }

    private static void positive(String option, int value) {
        if (value <= 0) {
            throw new BenchException(option + " must be positive, not " + value);
        }
    }

    /**
     * Parse errors (unknown option, a word where a number belongs) as one line plus a pointer to --help, instead of
     * the whole usage text; for any arbor command.
     */
    public static CommandLine.IParameterExceptionHandler oneLineErrors() {
        return (ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            name = name.equals("arbor") || name.startsWith("arbor ") ? name : "arbor " + name;
            cmd.getErr().println(name + ": " + ex.getMessage() + " (see " + name + " --help)");
            cmd.getErr().flush();
            return EXIT_USAGE;
        };
    }

    public static CommandLine commandLine() {
        return new CommandLine(new BenchCommand()).setParameterExceptionHandler(oneLineErrors());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** Lets the report go to picocli's writers, which tests can capture. */
    private static final class WriterOutputStream extends java.io.OutputStream {
        private final java.io.PrintWriter w;

        WriterOutputStream(java.io.PrintWriter w) {
            this.w = w;
        }

        @Override
        public void write(int b) {
            w.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            w.write(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void flush() {
            w.flush();
        }
    }
}

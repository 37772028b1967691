package ai.arbor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code arbor node} in its own JVM, started from the Maven runtime classpath that the build writes to
 * {@code target/node.classpath}, on free ports. Restarts keep the ports, so a restarted node has the same address.
 */
public final class NodeProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final int httpPort;
    private final int managementPort;
    private final int remotingPort;
    private final ChildProcess process;

    private NodeProcess(String name, int httpPort, int managementPort, int remotingPort, List<String> command, Path log) {
        this.name = name;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
        this.remotingPort = remotingPort;
        this.process = new ChildProcess(name, command, log);
    }

    /**
     * @param extraArgs further {@code arbor node} options (e.g. {@code --migration-limit 2})
     */
    public static NodeProcess create(String name, String roles, String etcd, String nats, String cluster, Path model,
                                     String servedModelName, List<String> extraArgs) {
        int httpPort = FreePorts.next();
        int managementPort = FreePorts.next();
        int remotingPort = FreePorts.next();
        List<String> cmd = new ArrayList<>();
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-Xss4m", "-XX:+UseSerialGC"));
        // C1 alone saves JIT time on this shared machine, but only C2 compiles the Vector API to SIMD: under C1 the
        // CPU engine runs the API's scalar fallback, and a 200-token prefill takes minutes. So only workers get C2.
        if (!roles.contains("worker")) cmd.add("-XX:TieredStopAtLevel=1");
        // metrics a test reads from /metrics are at most a second old (the default tick is 10 s)
        cmd.add("-Darbor.metrics.tick-interval=1s");
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector",
                "-Dlogback.configurationFile=" + resource("node-logback.xml"),
                "-cp", classpath(),
                "ai.arbor.cluster.cli.ArborCli", "node",
                "--roles", roles,
                "--etcd", etcd,
                "--nats", nats,
                "--cluster-name", cluster,
                "--model", model.toString(),
                "--served-model-name", servedModelName,
                "--device", "cpu",
                "--host", "127.0.0.1",
                "--port", Integer.toString(httpPort),
                "--management-port", Integer.toString(managementPort),
                "--remoting-port", Integer.toString(remotingPort),
                // small KV caches and one compute thread each: several nodes share this machine
                "--kv-cache-memory", "64MiB",
                "--threads", "1"));
        cmd.addAll(extraArgs);
        Path log = logDir().resolve(cluster + "-" + name + ".log");
        try {
            // a new node starts a new log (an earlier test run's lines would be counted as this one's); its restarts append
            Files.deleteIfExists(log);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new NodeProcess(name, httpPort, managementPort, remotingPort, cmd, log);
    }

    public NodeProcess start() {
        process.start();
        return this;
    }

    /** Waits for {@code /ready} on the management port: member Up and (workers) model loaded. */
    public NodeProcess awaitReady(Duration timeout) {
        process.awaitReady(() -> ChildProcess.httpOk(managementUrl() + "/ready", null), timeout);
        return this;
    }

    public String managementUrl() { return "http://127.0.0.1:" + managementPort; }

    public String httpUrl() { return "http://127.0.0.1:" + httpPort; }

    public String remotingAddress() { return "127.0.0.1:" + remotingPort; }

    public String name() { return name; }

    public boolean isAlive() { return process.isAlive(); }

    public void kill() { process.kill(); }

    /** Sends a signal by name (STOP, CONT, …) with the {@code kill} command. */
    public void signal(String name) {
        try {
            Process p = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (p.waitFor() != 0) throw new IllegalStateException("kill -" + name + " failed for " + this.name);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGTERM, returning at once: the node drains and leaves while the caller watches. */
    public void signalTerm() { process.signalTerm(); }

    /** Waits for the process to exit; its exit code, or -1 if it still runs after {@code timeout}. */
    public int waitForExit(Duration timeout) { return process.waitForExit(timeout); }

    /** SIGTERM: the node drains and leaves; waits up to {@code grace} for it to exit. */
    public int terminate(Duration grace) {
        process.stop(grace);
        return process.waitForExit(Duration.ofSeconds(1));
    }

    public String logTail() { return process.logTail(); }

    /**
     * A number from this node's {@code /arbor/node} (a worker's engine counters: {@code promptTokens},
     * {@code prefixCacheHits}, {@code onboardedPeerBlocks}, ...), or -1 when it is not there.
     */
    public long stat(String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)")
                .matcher(get(managementUrl() + "/arbor/node").body());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * A sample from this node's management {@code /metrics} (Prometheus text): the sum over the series named
     * {@code name} whose labels include every one of {@code labels} (e.g. {@code reason="deadline"}), or -1 when none
     * does.
     */
    public double metric(String name, String... labels) {
        double sum = 0;
        boolean found = false;
        for (String line : get(managementUrl() + "/metrics").body().split("\n")) {
            if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
            int end = line.lastIndexOf(' ');
            String series = line.substring(0, end);
            if (Arrays.stream(labels).allMatch(series::contains)) {
                sum += Double.parseDouble(line.substring(end + 1));
                found = true;
            }
        }
        return found ? sum : -1;
    }

    public Path log() { return process.log(); }

    /** GET on the management or HTTP port: status and body (status -1 when nothing answers). */
    public static Response get(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Response(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Response(-1, "interrupted");
        }
    }

    public record Response(int status, String body) {}

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(15));
    }

    private static String classpath() {
        Path file = Path.of("target", "node.classpath");
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("no " + file.toAbsolutePath() + ": build the it module with Maven (generate-test-resources writes it)", e);
        }
    }

    private static String resource(String name) {
        var url = NodeProcess.class.getClassLoader().getResource(name);
        if (url == null) throw new IllegalStateException("test resource " + name + " missing");
        return Path.of(URI.create(url.toString())).toString();
    }

    private static Path logDir() {
        try {
            return Files.createDirectories(Path.of("target", "node-logs"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

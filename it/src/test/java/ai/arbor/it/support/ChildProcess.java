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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real child process for integration tests: output goes to a log file (shown when it fails to start), it can be
 * stopped gracefully (SIGTERM), killed (SIGKILL) and started again with the same command line.
 */
public class ChildProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final List<String> command;
    private final Path log;
    private Process process;

    public ChildProcess(String name, List<String> command, Path log) {
        this.name = name;
        this.command = List.copyOf(command);
        this.log = log;
    }

    /** Starts the process; output is appended to the log so restarts keep earlier runs' output. */
    public synchronized void start() {
        if (isAlive()) throw new IllegalStateException(name + " is already running");
        try {
            Files.createDirectories(log.getParent());
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + command, e);
        }
    }

    /** Waits until {@code ready} holds, failing with the log's tail if the process dies or time runs out. */
    public void awaitReady(BooleanSupplier ready, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + " before it was ready\n" + logTail());
            }
            if (ready.getAsBoolean()) return;
            sleep(100);
        }
        throw new IllegalStateException(name + " not ready within " + timeout + "\n" + logTail());
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    public synchronized long pid() {
        if (process == null) throw new IllegalStateException(name + " was never started");
        return process.pid();
    }

    /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
    public synchronized void stop(Duration grace) {
        if (process == null) return;
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** SIGTERM without waiting: the process shuts down (or drains) on its own time; see {@link #waitForExit}. */
    public synchronized void signalTerm() {
        if (process != null) process.destroy();
    }

    /** SIGKILL: the process gets no chance to clean up, like a crashed machine. */
    public synchronized void kill() {
        if (process == null) return;
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for the process to exit by itself; returns its exit code, or -1 if it still runs after the timeout. */
    public int waitForExit(Duration timeout) {
        Process p;
        synchronized (this) { p = process; }
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? p.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public Path log() { return log; }

    public String name() { return name; }

    public String logTail() {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            return "--- last lines of " + log + " ---\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(log " + log + " unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }

    /** True when GET {@code url} answers 200 (and contains {@code expected}, when given). */
    public static boolean httpOk(String url, String expected) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && (expected == null || r.body().contains(expected));
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

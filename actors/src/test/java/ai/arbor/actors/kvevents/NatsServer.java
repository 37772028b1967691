package ai.arbor.actors.kvevents;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Debian {@code nats-server -js} for the actors tests, on free loopback ports with a temporary store directory;
 * {@link #kill()} then {@link #restart()} keeps ports and store, like a crashed and restarted server. (The it module
 * has a fuller fixture; actors cannot depend on it.)
 */
public final class NatsServer implements AutoCloseable {
    private final Path dir;
    private final int port = freePort();
    private final int monitorPort = freePort();
    private Process process;

    private NatsServer() throws IOException {
        dir = Files.createTempDirectory("arbor-actors-nats-");
    }

    public static boolean available() {
        return binary() != null;
    }

    public static NatsServer start() {
        try {
            NatsServer s = new NatsServer();
            s.restart();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String url() { return "nats://127.0.0.1:" + port; }

    public synchronized void restart() {
        if (process != null && process.isAlive()) throw new IllegalStateException("nats-server is running");
        try {
            process = new ProcessBuilder(binary(), "-js", "-a", "127.0.0.1", "-p", "" + port, "-m", "" + monitorPort,
                    "-sd", dir.resolve("store").toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("nats.log").toFile()))
                    .start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!healthy()) {
                if (!process.isAlive()) throw new IllegalStateException("nats-server exited: " + Files.readString(dir.resolve("nats.log")));
                if (System.nanoTime() > deadline) throw new IllegalStateException("nats-server not healthy in 20 s");
                Thread.sleep(50);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private boolean healthy() {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + monitorPort + "/healthz").openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(500);
            return c.getResponseCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL: no clean shutdown. */
    public synchronized void kill() {
        if (process == null) return;
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir; best effort
        }
    }

    private static String binary() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin";
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "nats-server"))) return Path.of(d, "nats-server").toString();
        }
        return null;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

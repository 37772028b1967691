package ai.arbor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's {@code nats-server} with JetStream ({@code -js}) on free loopback ports and a temporary store dir. A restart
 * reuses ports and store, so JetStream streams survive it like they would a server restart in production.
 */
public final class NatsProcess implements AutoCloseable {
    private final Path storeDir;
    private final int port;
    private final int monitorPort;
    private final ChildProcess process;

    private NatsProcess(Path workDir) {
        this.storeDir = workDir.resolve("jetstream");
        this.port = FreePorts.next();
        this.monitorPort = FreePorts.next();
        this.process = new ChildProcess("nats:" + port, List.of(
                binary(),
                "-js",
                "-a", "127.0.0.1",
                "-p", Integer.toString(port),
                "-m", Integer.toString(monitorPort),
                "-sd", storeDir.toString()), workDir.resolve("nats.log"));
    }

    /** Starts nats-server and waits until its monitoring endpoint reports healthy (JetStream included). */
    public static NatsProcess start() {
        try {
            NatsProcess nats = new NatsProcess(Files.createTempDirectory("arbor-nats-"));
            nats.startAgain();
            return nats;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void startAgain() {
        process.start();
        process.awaitReady(this::healthy, Duration.ofSeconds(30));
    }

    public boolean healthy() {
        return ChildProcess.httpOk("http://127.0.0.1:" + monitorPort + "/healthz", "ok");
    }

    /** {@code nats://127.0.0.1:PORT}, the form jnats and {@code --nats} take. */
    public String url() {
        return "nats://127.0.0.1:" + port;
    }

    public int port() { return port; }

    public void stop() { process.stop(Duration.ofSeconds(10)); }

    public void kill() { process.kill(); }

    public boolean isAlive() { return process.isAlive(); }

    public Path log() { return process.log(); }

    @Override
    public void close() {
        stop();
        Tmp.deleteQuietly(storeDir);
    }

    static String binary() {
        return Which.find("nats-server", "Debian package nats-server (bin/test installs it)");
    }
}

package ai.arbor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's {@code etcd} (3.4) as a single-member cluster on free loopback ports with a temporary data dir. A restart
 * reuses the ports and data, so clients reconnect to the same endpoint and keys written before a stop survive it
 * (leases expire while it is down, as they would in production).
 */
public final class EtcdProcess implements AutoCloseable {
    private final Path dataDir;
    private final int clientPort;
    private final int peerPort;
    private final ChildProcess process;

    private EtcdProcess(Path workDir) {
        this.dataDir = workDir.resolve("data");
        this.clientPort = FreePorts.next();
        this.peerPort = FreePorts.next();
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        this.process = new ChildProcess("etcd:" + clientPort, List.of(
                binary(),
                "--name", "it",
                "--data-dir", dataDir.toString(),
                "--listen-client-urls", client,
                "--advertise-client-urls", client,
                "--listen-peer-urls", peer,
                "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "it=" + peer,
                "--initial-cluster-state", "new",
                "--log-level", "warn"), workDir.resolve("etcd.log"));
    }

    /** Starts etcd and waits until it answers {@code /health}. */
    public static EtcdProcess start() {
        try {
            EtcdProcess etcd = new EtcdProcess(Files.createTempDirectory("arbor-etcd-"));
            etcd.startAgain();
            return etcd;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a stopped or killed etcd again on the same port and data. */
    public void startAgain() {
        process.start();
        process.awaitReady(this::healthy, Duration.ofSeconds(30));
    }

    public boolean healthy() {
        return ChildProcess.httpOk(endpoint() + "/health", "true");
    }

    /** {@code http://127.0.0.1:PORT}, the form jetcd and {@code --etcd} take. */
    public String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    public int clientPort() { return clientPort; }

    public void stop() { process.stop(Duration.ofSeconds(10)); }

    public void kill() { process.kill(); }

    public boolean isAlive() { return process.isAlive(); }

    public Path log() { return process.log(); }

    @Override
    public void close() {
        stop();
        Tmp.deleteQuietly(dataDir);
    }

    static String binary() {
        return Which.find("etcd", "Debian package etcd-server (bin/test installs it)");
    }
}

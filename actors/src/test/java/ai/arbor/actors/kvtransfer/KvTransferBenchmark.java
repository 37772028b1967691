package ai.arbor.actors.kvtransfer;

import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.config.ClusterSecuritySettings;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.config.PemSslContext;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.EngineLoop;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.kv.KvBlockBatch;
import ai.arbor.gpu.model.HfModel;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * GB/s of one KV block transfer between two engines over the loopback TCP data plane, against a plain memory copy of
 * the same bytes on this machine. Engine A (its own engine thread) holds N blocks; B pulls them by hash: A copies them
 * out of its paged cache into a pooled direct buffer, the bytes cross the socket (a connection kept between
 * transfers) into B's pooled direct buffer, and B copies them into its paged cache. Both ends share one buffer pool,
 * as the two sides of one worker do. Prints the best and median of the repeats for each size.
 *
 * <p>Usage: {@code KvTransferBenchmark MODEL_DIR [repeats [KEY CERT CA]]} (a model directory, e.g. models/tiny-qwen2:
 * only its KV shape matters; with PEM files, both ends use mutual TLS with that key and certificate, as a worker does
 * when remoting TLS is on).
 */
public final class KvTransferBenchmark {
    private KvTransferBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "models/tiny-qwen2");
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        KvTransport transport = args.length > 4
                ? KvTransport.mutualTls(PemSslContext.client(new ClusterSecuritySettings.Pem(Optional.of(Path.of(args[2])),
                        Optional.of(Path.of(args[3])), Optional.of(Path.of(args[4])))))
                : KvTransport.plain();
        HfModel model = HfModel.load(dir);
        int bs = 16;
        int[] sizes = {16, 128, 1024, 4096};
        int maxBlocks = sizes[sizes.length - 1];
        EngineConfig config = new EngineConfig(bs, maxBlocks + 16, 4, 512, 0, true, 0);
        LLMEngine a = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 1L << 30), config);
        LLMEngine b = new LLMEngine(model, new CpuBackend(model.config(), model.weights(), 1, 1L << 30), config);
        EngineLoop loopA = new EngineLoop(a, "engine-a");
        loopA.start();
        KvTransferMetrics metrics = new KvTransferMetrics("bench");
        KvSharingSettings settings = KvSharingSettings.defaults();
        KvBufferPool buffers = new KvBufferPool(settings.bufferPoolBytes());
        try (KvTransferServer server = new KvTransferServer(a, loopA::wakeup, metrics, buffers, settings, transport,
                "127.0.0.1", 0);
             KvTransferClient client = new KvTransferClient(metrics, buffers, settings, transport)) {
            InetSocketAddress peer = new InetSocketAddress("127.0.0.1", server.port());
            Random rnd = new Random(1);
            KvBlockBatch held = randomBlocks(a, maxBlocks, bs, rnd);
            CompletableFuture<Integer> in = a.importBlocks(held);
            loopA.wakeup();
            if (in.get(60, TimeUnit.SECONDS) != maxBlocks) throw new IllegalStateException("A took in too few blocks");
            System.out.printf(Locale.ROOT, "KV block: %d tokens, %d bytes; %s; %d repeats, best / median%n", bs,
                    held.blockBytes(), transport, repeats);
            for (int n : sizes) {
                long[] hashes = java.util.Arrays.copyOf(held.hashes(), n);
                long bytes = (long) n * held.blockBytes();
                double[] pull = new double[repeats];
                double[] total = new double[repeats];
                for (int r = 0; r < repeats + 2; r++) {
                    b.resetPrefixCache();
                    long t0 = System.nanoTime();
                    KvBlockBatch got = client.pull(peer, hashes, Duration.ofSeconds(60));
                    long t1 = System.nanoTime();
                    CompletableFuture<Integer> taken = b.importBlocks(got);
                    b.step(); // B's engine thread is this one
                    if (taken.get() != n) throw new IllegalStateException("B took in " + taken.get() + " of " + n);
                    long t2 = System.nanoTime();
                    client.release(got);
                    if (r >= 2) { // two warm-up rounds for the JIT
                        pull[r - 2] = bytes / ((t1 - t0) / 1e9) / 1e9;
                        total[r - 2] = bytes / ((t2 - t0) / 1e9) / 1e9;
                    }
                }
                double copy = memcpy(bytes, repeats);
                System.out.printf(Locale.ROOT,
                        "%5d blocks (%7.1f MiB): pull %6.2f / %6.2f GB/s, pull+import %6.2f / %6.2f GB/s, memcpy %6.2f GB/s%n",
                        n, bytes / 1048576.0, best(pull), median(pull), best(total), median(total), copy);
            }
            System.out.printf(Locale.ROOT, "connections accepted: %d%n", server.connectionsAccepted());
        } finally {
            loopA.close();
            a.close();
            b.close();
            model.close();
        }
    }

    /** A chain of {@code n} blocks of random bytes with made-up hashes and tokens, shaped for {@code e}'s cache. */
    private static KvBlockBatch randomBlocks(LLMEngine e, int n, int bs, Random rnd) throws Exception {
        CompletableFuture<KvBlockBatch> empty = e.exportBlocks(new long[0]);
        e.step();
        int blockBytes = empty.get().blockBytes();
        long[] hashes = new long[n];
        for (int i = 0; i < n; i++) hashes[i] = rnd.nextLong();
        int[] tokens = new int[n * bs];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 1 + rnd.nextInt(1000);
        ByteBuffer data = ByteBuffer.allocateDirect(n * blockBytes);
        while (data.remaining() >= 4) data.putFloat(rnd.nextFloat());
        return new KvBlockBatch(null, hashes, tokens, bs, blockBytes, data.flip());
    }

    /** Best GB/s of a direct-to-direct buffer copy of {@code bytes} (the JDK's bulk copy: memcpy), pages touched. */
    private static double memcpy(long bytes, int repeats) {
        ByteBuffer src = ByteBuffer.allocateDirect((int) bytes);
        ByteBuffer dst = ByteBuffer.allocateDirect((int) bytes);
        dst.put(src.duplicate()); // both buffers' pages are touched before the timed copies
        double best = 0;
        for (int r = 0; r < repeats + 2; r++) {
            src.clear();
            dst.clear();
            long t0 = System.nanoTime();
            dst.put(src);
            long t = System.nanoTime() - t0;
            if (r >= 2) best = Math.max(best, bytes / (t / 1e9) / 1e9);
        }
        return best;
    }

    private static double best(double[] xs) {
        double m = 0;
        for (double x : xs) m = Math.max(m, x);
        return m;
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }
}

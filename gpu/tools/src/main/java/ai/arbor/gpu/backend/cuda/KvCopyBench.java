package ai.arbor.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * GB/s of the KV block copies the host tier and transfers make, per-block path against the batched pinned path, over
 * the benchmark's cache (1,000 blocks in a shuffled order, as a prefix scattered over the pool is), with the device's
 * plain pinned-memory copy bandwidth for a ceiling. Each figure is the median of 3 timed runs after a warm-up; a write
 * counts until the compute stream has the blocks (the batched write returns before that).
 */
final class KvCopyBench {
    private static final int RUNS = 3;

    private KvCopyBench() {}

    /** Table rows for the benchmark's summary; prints them as they come. */
    static List<String> run(CudaBackend gpu, int cacheBlocks, int wanted) {
        CudaKvBlockCopier copier = gpu.blockCopier();
        int n = Math.min(wanted, cacheBlocks);
        long bytes = copier.blockBytes();
        long total = n * bytes;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < cacheBlocks; i++) order.add(i);
        Collections.shuffle(order, new java.util.Random(5));
        int[] ids = order.subList(0, n).stream().mapToInt(Integer::intValue).toArray();
        ByteBuffer perBlock = ByteBuffer.allocateDirect((int) total);
        ByteBuffer batched = ByteBuffer.allocateDirect((int) total);
        CudaDevice dev = gpu.device();

        double readOne = median(() -> {
            perBlock.clear();
            for (int id : ids) copier.read(id, perBlock);
        });
        double readBatch = median(() -> {
            batched.clear();
            copier.read(ids, batched);
        });
        boolean same = perBlock.clear().equals(batched.clear());
        byte[] noise = new byte[(int) total];
        new SplittableRandom(3).nextBytes(noise);
        ByteBuffer src = ByteBuffer.allocateDirect((int) total).put(noise).flip();
        double writeOne = median(() -> {
            ByteBuffer s = src.duplicate();
            for (int id : ids) copier.write(id, s);
            dev.synchronize();
        });
        double writeBatch = median(() -> {
            copier.write(ids, src.duplicate());
            dev.synchronize(); // the compute stream waits for the last scatter
        });
        batched.clear();
        copier.read(ids, batched);
        boolean written = batched.clear().equals(src.duplicate());
        // zeros again: the random bytes may be NaN as bf16, and the decode benchmarks reuse these blocks
        copier.write(ids, ByteBuffer.allocateDirect((int) total));
        dev.synchronize();
        double[] pinned = pinnedCeiling(dev, Math.min(total, 256L << 20));

        String what = String.format("KV copy, %d blocks of %d KiB (%.0f MB) in shuffled order", n, bytes >> 10, total / 1e6);
        List<String> rows = List.of(
                String.format("| %s, device → host: per block (sync + %d memcpys into a pageable buffer) / batched "
                                + "(gather kernel + pinned, rounds of %d blocks) | %.1f / %.1f GB/s | %.1f / %.1f ms | "
                                + "pinned memcpy D→H %.1f GB/s; bytes of both paths %s |", what,
                        copier.runsPerBlock(), copier.roundBlocks(), gb(total, readOne), gb(total, readBatch),
                        1e3 * readOne, 1e3 * readBatch, pinned[0] / 1e9, same ? "identical" : "DIFFER"),
                String.format("| %s, host → device: per block / batched (pinned + scatter kernel) | %.1f / %.1f GB/s | "
                                + "%.1f / %.1f ms | pinned memcpy H→D %.1f GB/s; read back after the batched write %s |",
                        what, gb(total, writeOne), gb(total, writeBatch), 1e3 * writeOne, 1e3 * writeBatch,
                        pinned[1] / 1e9, written ? "identical" : "DIFFERS"));
        for (String r : rows) System.out.println(r);
        return rows;
    }

    private static double gb(long bytes, double secs) { return bytes / secs / 1e9; }

    /** Seconds of one run of {@code r}: median of {@link #RUNS} after one untimed. */
    private static double median(Runnable r) {
        r.run();
        double[] t = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long s = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        Arrays.sort(t);
        return t[RUNS / 2];
    }

    /** {device → pinned host, pinned host → device} bytes per second of one plain copy of {@code bytes}. */
    private static double[] pinnedCeiling(CudaDevice dev, long bytes) {
        CUdeviceptr d = dev.alloc(bytes, "pinned bandwidth test");
        Pointer h = new Pointer();
        dev.makeCurrent();
        cuMemAllocHost(h, bytes);
        try {
            double down = median(() -> {
                cuMemcpyDtoHAsync(h, d, bytes, dev.stream);
                dev.synchronize();
            });
            double up = median(() -> {
                cuMemcpyHtoDAsync(d, h, bytes, dev.stream);
                dev.synchronize();
            });
            return new double[]{bytes / down, bytes / up};
        } finally {
            cuMemFreeHost(h);
            dev.free(d);
        }
    }
}

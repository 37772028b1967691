package ai.arbor.gpu.tools;

import ai.arbor.gpu.bench.MemoryBandwidth;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpu-tools memory-bandwidth}: {@link MemoryBandwidth}, the host memory read bandwidth a CPU decode gets. */
@Command(name = "memory-bandwidth", mixinStandardHelpOptions = true,
        description = "Host memory read bandwidth through vector loads: the CPU backend's decode roofline.")
final class MemoryBandwidthCommand implements Callable<Integer> {

    @Option(names = "--threads", description = "reading threads (default: one per processor)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--mib", defaultValue = "1024", description = "array size in MiB (default ${DEFAULT-VALUE})")
    long mib;

    @Option(names = "--repeats", defaultValue = "5", description = "passes, the best counts (default ${DEFAULT-VALUE})")
    int repeats;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (threads < 1 || mib < 1 || repeats < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads, --mib and --repeats must be >= 1");
        }
        for (int w = 0; w < 2; w++) MemoryBandwidth.measure(threads, 64L << 20, 3); // JIT warm-up on a small array
        double bytesPerSecond = MemoryBandwidth.measure(threads, mib << 20, repeats);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "read bandwidth, %d threads, %d MiB: %.1f GB/s%n", threads, mib, bytesPerSecond / 1e9);
        out.flush();
        return 0;
    }
}

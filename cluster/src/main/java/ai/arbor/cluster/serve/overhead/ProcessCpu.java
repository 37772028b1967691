package ai.arbor.cluster.serve.overhead;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of this process so far, and the part spent in the kernel where Linux tells ({@code /proc/self/stat}):
 * thread wake-ups and socket writes cost kernel time that a Java sampling profiler never sees.
 *
 * @param systemNanos -1 where unknown
 */
record ProcessCpu(long totalNanos, long systemNanos) {
    /** USER_HZ: 100 on every Linux a JVM runs on. */
    private static final long TICK_NANOS = 10_000_000;

    static ProcessCpu now() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long total = os.getProcessCpuTime();
        long system = -1;
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // fields after the command name (which may hold spaces) start at state, field 3; stime is field 15
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            system = Long.parseLong(f[12]) * TICK_NANOS;
        } catch (IOException | RuntimeException e) {
            // not Linux: total only
        }
        return new ProcessCpu(total, system);
    }

    ProcessCpu minus(ProcessCpu start) {
        return new ProcessCpu(totalNanos - start.totalNanos,
                systemNanos < 0 || start.systemNanos < 0 ? -1 : systemNanos - start.systemNanos);
    }
}

package ai.arbor.cluster.serve.overhead;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of this process so far, and the part spent in the kernel where Linux tells ({@code /proc/self/stat}):
 * thread wake-ups and socket writes cost kernel time that a Java sampling profiler never sees.
 *
 * @param systemNanos -1 where unknown
 * @param wakeups voluntary context switches of the threads alive at both ends (a thread parking, to be woken again),
 *                -1 where unknown: each costs a system call and a trip through the scheduler, and with 2 cores shared
 *                by many threads, a wait for a time slice
 */
record ProcessCpu(long totalNanos, long systemNanos, Map<String, Long> wakeupsByThread) {
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
        return new ProcessCpu(total, system, readWakeups());
    }

    private static Map<String, Long> readWakeups() {
        Map<String, Long> byThread = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            byThread.put(t.getFileName().toString(), Long.parseLong(line.substring(24).trim()));
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return byThread;
    }

    ProcessCpu minus(ProcessCpu start) {
        Map<String, Long> delta = new HashMap<>();
        wakeupsByThread.forEach((tid, n) -> {
            Long before = start.wakeupsByThread.get(tid);
            if (before != null) delta.put(tid, n - before);
        });
        return new ProcessCpu(totalNanos - start.totalNanos,
                systemNanos < 0 || start.systemNanos < 0 ? -1 : systemNanos - start.systemNanos, delta);
    }

    /** Voluntary context switches during the run of the threads that lived through it (the server's, not clients'). */
    long wakeups() {
        return wakeupsByThread.isEmpty() ? -1 : wakeupsByThread.values().stream().mapToLong(Long::longValue).sum();
    }
}

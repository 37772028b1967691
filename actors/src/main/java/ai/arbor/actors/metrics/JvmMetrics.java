package ai.arbor.actors.metrics;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import kamon.Kamon;
import kamon.metric.MeasurementUnit;

/**
 * JVM metrics from the platform MXBeans (memory, GC, threads, CPU), sampled each second on a daemon thread. Kamon's
 * own JVM metrics need its instrumentation agent, which Arbor does not ship; these cover what dashboards need.
 */
final class JvmMetrics {
    private static final MeasurementUnit BYTES = MeasurementUnit.information().bytes();
    private final Map<String, long[]> gcSeen = new HashMap<>();

    private JvmMetrics() {}

    static void start() {
        JvmMetrics m = new JvmMetrics();
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "arbor-jvm-metrics");
            t.setDaemon(true);
            return t;
        });
        s.scheduleAtFixedRate(m::sample, 0, 1, TimeUnit.SECONDS);
    }

    private void sample() {
        try {
            var mem = ManagementFactory.getMemoryMXBean();
            memory("heap", mem.getHeapMemoryUsage());
            memory("nonheap", mem.getNonHeapMemoryUsage());
            var threads = ManagementFactory.getThreadMXBean();
            Kamon.gauge("jvm.threads.live").withoutTags().update(threads.getThreadCount());
            Kamon.gauge("jvm.threads.daemon").withoutTags().update(threads.getDaemonThreadCount());
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                Kamon.gauge("process.cpu.usage.ratio").withoutTags().update(Math.max(0, os.getProcessCpuLoad()));
            }
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                long[] last = gcSeen.computeIfAbsent(gc.getName(), n -> new long[2]);
                long count = Math.max(0, gc.getCollectionCount());
                long millis = Math.max(0, gc.getCollectionTime());
                Kamon.counter("jvm.gc.collections").withTag("gc", gc.getName()).increment(Math.max(0, count - last[0]));
                Kamon.counter("jvm.gc.collection.time", MeasurementUnit.time().milliseconds()).withTag("gc", gc.getName())
                        .increment(Math.max(0, millis - last[1]));
                last[0] = count;
                last[1] = millis;
            }
        } catch (RuntimeException e) {
            // a metric sample must never kill the sampler thread
        }
    }

    private static void memory(String area, MemoryUsage u) {
        Kamon.gauge("jvm.memory.used", BYTES).withTag("area", area).update(u.getUsed());
        Kamon.gauge("jvm.memory.committed", BYTES).withTag("area", area).update(u.getCommitted());
        if (u.getMax() >= 0) Kamon.gauge("jvm.memory.max", BYTES).withTag("area", area).update(u.getMax());
    }
}

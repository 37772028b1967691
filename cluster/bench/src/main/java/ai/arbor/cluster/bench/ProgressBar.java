package ai.arbor.cluster.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A one-line progress bar on stderr, redrawn in place on a terminal; without one (logs, CI) a line every tenth of the
 * run instead of a stream of carriage returns.
 */
final class ProgressBar implements RequestDriver.Listener {
    private static final int BAR = 30;

    private final PrintStream out;
    private final int total;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private long lastDraw;
    private int lastDecile = -1;

    ProgressBar(PrintStream out, int total, boolean terminal) {
        this.out = out;
        this.total = total;
        this.terminal = terminal;
    }

    @Override
    public void finished(RequestResult result) {
        if (!result.success()) {
            failed.incrementAndGet();
        }
        int n = done.incrementAndGet();
        draw(n, n == total);
    }

    private synchronized void draw(int n, boolean last) {
        long now = System.nanoTime();
        double elapsed = (now - start) / 1e9;
        if (terminal) {
            if (!last && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            int filled = total == 0 ? BAR : n * BAR / total;
            out.printf(Locale.ROOT, "\r[%s%s] %d/%d requests, %d failed, %.1f s%s", "#".repeat(filled),
                    ".".repeat(BAR - filled), n, total, failed.get(), elapsed, last ? "\n" : "");
        } else {
            int decile = total == 0 ? 10 : n * 10 / total;
            if (decile == lastDecile) {
                return;
            }
            lastDecile = decile;
            out.printf(Locale.ROOT, "%d/%d requests, %d failed, %.1f s%n", n, total, failed.get(), elapsed);
        }
        out.flush();
    }
}

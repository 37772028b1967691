package ai.arbor.it.support;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Clients that each send one small chat completion after another to a frontend until {@link #close}, counting what
 * succeeded and keeping what failed (status and body): the load a fault test puts on a cluster while it breaks things.
 */
public final class ClosedLoopLoad implements AutoCloseable {
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicLong ok = new AtomicLong();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private volatile boolean stopped;

    public ClosedLoopLoad(String chatUrl, String model, int clientCount) {
        for (int c = 0; c < clientCount; c++) {
            int id = c;
            Thread t = new Thread(() -> {
                for (long i = 0; !stopped; i++) {
                    NodeProcess.Response r = OpenAiCalls.post(chatUrl, OpenAiCalls.chatBody(model, "client " + id + " request " + i, 4, false));
                    if (stopped && r.status() == -1) break; // interrupted by close
                    if (r.status() == 200 && r.body().contains("\"choices\"")) ok.incrementAndGet();
                    else failures.add(r.status() + " " + r.body());
                }
            }, "load-" + c);
            t.setDaemon(true);
            clients.add(t);
        }
        clients.forEach(Thread::start);
    }

    public long succeeded() { return ok.get(); }

    public List<String> failures() { return List.copyOf(failures); }

    /** Stops sending; requests in flight finish first (each is a few tokens). */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        for (Thread t : clients) t.join(120_000);
    }
}

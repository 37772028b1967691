package ai.arbor.cluster.routing;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.frontend.GenerationSpec;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;

/** One request's event stream from a {@link Frontend}, read as it comes: its token ids, finish reason and usage. */
final class Streams {
    private Streams() {}

    static GenerationSpec spec(String id, int[] prompt, int maxTokens) {
        return new GenerationSpec(id, prompt, SamplingParams.greedy(maxTokens), 1, List.of());
    }

    /** {@code count} consecutive token ids from {@code first}: what a {@link CountingEngine} answers. */
    static int[] counting(int first, int count) {
        return IntStream.range(first, first + count).toArray();
    }

    static final class Running {
        private final LinkedBlockingQueue<GenerationEvent> events = new LinkedBlockingQueue<>();
        private final CompletableFuture<Done> done;
        private final List<Integer> tokens = new ArrayList<>();
        private GenerationEvent.Usage usage;
        private FinishReason reason;

        Running(Frontend frontend, GenerationSpec spec, ActorSystem<?> system) {
            done = frontend.generate(spec).runForeach(events::add, system).toCompletableFuture();
        }

        /** Waits until at least {@code n} tokens came. */
        Running awaitTokens(int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (tokens.size() < n) {
                GenerationEvent e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (e == null) throw new AssertionError("only " + tokens.size() + " of " + n + " tokens came");
                take(e);
            }
            return this;
        }

        /** Waits for the end of the stream; a failed stream throws its {@link GenerationEvent.Failure}. */
        Running finish(Duration timeout) throws Exception {
            try {
                done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof GenerationEvent.Failure f) throw f;
                throw e;
            }
            for (GenerationEvent e; (e = events.poll()) != null; ) take(e);
            return this;
        }

        private void take(GenerationEvent e) {
            if (e instanceof GenerationEvent.Delta d) for (int id : d.tokenIds()) tokens.add(id);
            else if (e instanceof GenerationEvent.Finished f) reason = f.reason();
            else if (e instanceof GenerationEvent.Usage u) usage = u;
        }

        int[] tokens() { return tokens.stream().mapToInt(Integer::intValue).toArray(); }

        GenerationEvent.Usage usage() { return usage; }

        FinishReason reason() { return reason; }
    }
}

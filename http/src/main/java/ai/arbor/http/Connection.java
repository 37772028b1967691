package ai.arbor.http;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.japi.function.Function2;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * One HTTP connection's life, seen from the handler: it closes a connection that takes longer than the header
 * timeout to send a request's head (slowloris, or an idle keep-alive connection), and it tells requests still
 * waiting for their first token that their client has gone, so that they stop there rather than when the first
 * token comes (Pekko drops a response whose connection closed without ever running its entity). It also counts its
 * requests in the server's {@link InFlightResponses} until their responses end: a strict one when it is handed on, a
 * streamed one when its entity ends, which the handler reports where it can (see {@link End}) and a stage watches
 * otherwise.
 */
final class Connection {
    private final InFlightResponses inFlight;
    private final List<Runnable> onClose = new ArrayList<>();
    private boolean closed;
    /** Requests on this connection counted in {@link #inFlight} whose responses have not ended. */
    private final AtomicInteger counted = new AtomicInteger();
    private volatile boolean closing;
    private volatile AsyncCallback<Boolean> responseDone;
    private volatile AsyncCallback<Boolean> closeWhenIdle;
    /** The ends of the responses not yet out, in request order (touched only by this connection's stages). */
    private final ArrayDeque<End> ends = new ArrayDeque<>();
    /** The end of the request whose handler is running now. */
    private End handling;

    private Connection(InFlightResponses inFlight) { this.inFlight = inFlight; }

    /**
     * One response's end, run once however many paths reach it: the drain count drops and the head deadline restarts.
     * A handler that can tell when its streamed response ends calls {@link #reportedByHandler} and runs it then, which
     * spares the connection a stage watching the entity.
     */
    final class End implements Runnable {
        private final boolean counted;
        private final AtomicBoolean ran = new AtomicBoolean();
        private volatile boolean reportedByHandler;

        private End(boolean counted) { this.counted = counted; }

        /** The handler runs this end itself, once its response's last element is out. */
        void reportedByHandler() { reportedByHandler = true; }

        @Override
        public void run() {
            if (ran.compareAndSet(false, true)) responseEnded(counted);
        }
    }

    /**
     * The handler flow of every connection: {@code handler} gets each request with its connection, and
     * {@code inFlight} counts it until its response has ended.
     */
    static Flow<HttpRequest, HttpResponse, ?> flow(Function2<HttpRequest, Connection, CompletionStage<HttpResponse>>
                                                           handler, Duration headerTimeout, InFlightResponses inFlight) {
        return Flow.fromMaterializer((mat, attrs) -> {
            Connection c = new Connection(inFlight);
            inFlight.opened(c);
            return Flow.of(HttpRequest.class)
                    .via(new HeadDeadline(headerTimeout, c))
                    .mapAsync(1, r -> c.respond(r, handler))
                    .map(c::watchEnd)
                    .watchTermination((m, done) -> {
                        done.whenCompleteAsync((d, t) -> c.close(), OpenAiServer.SAME_THREAD);
                        return m;
                    });
        });
    }

    private CompletionStage<HttpResponse> respond(HttpRequest request,
            Function2<HttpRequest, Connection, CompletionStage<HttpResponse>> handler) throws Exception {
        if (!inFlight.admit()) {
            ends.add(new End(false));
            return CompletableFuture.completedFuture(InFlightResponses.REFUSAL);
        }
        counted.incrementAndGet();
        End end = new End(true);
        ends.add(end);
        handling = end;
        try {
            return handler.apply(request, this);
        } catch (Exception | Error e) {
            ends.remove(end);
            countedEnded();
            throw e;
        } finally {
            handling = null;
        }
    }

    /** The end of the request being handled: valid only while the handler is called, not in its later stages. */
    End end() {
        if (handling == null) throw new IllegalStateException("no request is being handled on this connection now");
        return handling;
    }

    /**
     * Runs {@code action} when the connection closes before {@link #forget} is called with the same action; at once
     * if it is closed already.
     */
    void onClose(Runnable action) {
        synchronized (this) {
            if (!closed) {
                onClose.add(action);
                return;
            }
        }
        action.run();
    }

    synchronized void forget(Runnable action) { onClose.remove(action); }

    /** Ends the connection the graceful way (what is buffered is still sent) once no response is in flight on it. */
    void closeWhenIdle() {
        closing = true;
        AsyncCallback<Boolean> cb = closeWhenIdle;
        if (cb != null) cb.invoke(Boolean.TRUE);
    }

    private void close() {
        List<Runnable> actions;
        synchronized (this) {
            closed = true;
            actions = new ArrayList<>(onClose);
            onClose.clear();
        }
        // a response whose entity never ran (the client went away first) ends here
        for (int n = counted.getAndSet(0); n > 0; n--) inFlight.done();
        inFlight.closed(this);
        actions.forEach(Runnable::run);
    }

    private void countedEnded() {
        if (counted.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) inFlight.done();
    }

    /** The response goes out; it ends, and the head deadline restarts, once its entity has been handed on. */
    private HttpResponse watchEnd(HttpResponse response) {
        End end = ends.poll();
        ResponseEntity entity = response.entity();
        if (entity instanceof HttpEntity.Strict) {
            end.run();
            return response;
        }
        if (end.reportedByHandler) return response;
        // the Scala entity keeps its kind (chunked, close-delimited) where the Java API has no transformDataBytes
        var scala = (org.apache.pekko.http.scaladsl.model.ResponseEntity) entity;
        Flow<ByteString, ByteString, Object> watched = Flow.<ByteString>create().watchTermination((m, done) -> {
            done.whenCompleteAsync((d, t) -> end.run(), OpenAiServer.SAME_THREAD);
            return (Object) m;
        });
        return response.withEntity(scala.transformDataBytes(watched.asScala()));
    }

    private void responseEnded(boolean wasCounted) {
        if (wasCounted) countedEnded();
        AsyncCallback<Boolean> cb = responseDone;
        if (cb != null) cb.invoke(Boolean.TRUE);
    }

    /** Passes requests on, and ends the connection when none has come for the timeout since the last response. */
    private static final class HeadDeadline extends GraphStage<FlowShape<HttpRequest, HttpRequest>> {
        private final Inlet<HttpRequest> in = Inlet.create("HeadDeadline.in");
        private final Outlet<HttpRequest> out = Outlet.create("HeadDeadline.out");
        private final FlowShape<HttpRequest, HttpRequest> shape = FlowShape.of(in, out);
        private final Duration timeout;
        private final Connection connection;

        HeadDeadline(Duration timeout, Connection connection) {
            this.timeout = timeout;
            this.connection = connection;
        }

        @Override
        public FlowShape<HttpRequest, HttpRequest> shape() { return shape; }

        @Override
        public GraphStageLogic createLogic(Attributes attributes) {
            return new TimerGraphStageLogic(shape) {
                /** Requests passed on whose responses have not ended. */
                private int outstanding;
                private boolean closing;

                {
                    setHandler(in, new AbstractInHandler() {
                        @Override
                        public void onPush() {
                            cancelTimer("head");
                            outstanding++;
                            push(out, grab(in));
                        }

                        @Override
                        public void onUpstreamFinish() {
                            // the client closed its side (FIN): Pekko would still wait for a pending response, as
                            // for a half-closed client, but clients that hang up are far more common than those
                            connection.close();
                            completeStage();
                        }
                    });
                    setHandler(out, new AbstractOutHandler() {
                        @Override
                        public void onPull() { pull(in); }
                    });
                }

                @Override
                public void preStart() {
                    connection.responseDone = createAsyncCallback(x -> {
                        outstanding = Math.max(0, outstanding - 1);
                        if (outstanding > 0) return;
                        if (closing) completeStage();
                        else scheduleOnce("head", timeout);
                    });
                    connection.closeWhenIdle = createAsyncCallback(x -> {
                        closing = true;
                        if (outstanding == 0) completeStage();
                    });
                    scheduleOnce("head", timeout);
                    // a drain that began before this stage started has not reached it: see it here
                    if (connection.closing) connection.closeWhenIdle.invoke(Boolean.TRUE);
                }

                @Override
                public void onTimer(Object key) { completeStage(); }
            };
        }
    }
}

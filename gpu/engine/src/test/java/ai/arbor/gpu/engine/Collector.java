package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import java.util.ArrayList;
import java.util.List;

/** A sink that keeps everything a request produced. */
final class Collector implements RequestSink {
    final List<RequestOutput> outputs = new ArrayList<>();
    final List<Integer> tokens = new ArrayList<>();
    volatile RequestOutput last;
    volatile Throwable error;

    @Override
    public synchronized void onOutput(RequestOutput out) {
        outputs.add(out);
        for (int t : out.newTokenIds()) tokens.add(t);
        if (out.finished()) last = out;
    }

    @Override
    public void onError(String requestId, Throwable cause) {
        error = cause;
        RequestSink.super.onError(requestId, cause);
    }

    synchronized int[] tokenArray() { return tokens.stream().mapToInt(Integer::intValue).toArray(); }

    boolean finished() { return last != null; }
}

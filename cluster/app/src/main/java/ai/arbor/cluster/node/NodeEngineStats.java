package ai.arbor.cluster.node;

import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.InferenceEngine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a worker node's health details say of its engines: their counters summed over every worker it runs. */
final class NodeEngineStats {
    private NodeEngineStats() {}

    static Map<String, Object> sum(List<InferenceEngine> engines) {
        long running = 0, waiting = 0, active = 0, total = 0, prompt = 0, generated = 0, hits = 0, host = 0,
                onboardedHost = 0, onboardedPeer = 0;
        for (InferenceEngine engine : engines) {
            EngineStats s = engine.stats();
            running += s.runningRequests();
            waiting += s.waitingRequests();
            active += s.kvBlocksActive();
            total += s.kvBlocksTotal();
            prompt += s.promptTokens();
            generated += s.generatedTokens();
            hits += s.prefixCacheHits();
            host += s.hostKvBlocks();
            onboardedHost += s.onboardedHostBlocks();
            onboardedPeer += s.onboardedPeerBlocks();
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("runningRequests", running);
        d.put("waitingRequests", waiting);
        d.put("kvBlocksActive", active);
        d.put("kvBlocksTotal", total);
        d.put("promptTokens", prompt);
        d.put("generatedTokens", generated);
        d.put("prefixCacheHits", hits);
        d.put("hostKvBlocks", host);
        d.put("onboardedHostBlocks", onboardedHost);
        d.put("onboardedPeerBlocks", onboardedPeer);
        return d;
    }
}

package ai.arbor.http;

import ai.arbor.cluster.serve.SingleNode;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code arbor.router.mode = kv} in one process: the in-process KV event bus and the KV cost selector serve requests. */
class KvRouterModeTest {
    @Test
    void servesWithTheKvRouterMode() throws Exception {
        try (SingleNode node = SyntheticServers.start(Map.of("arbor.router.mode", "kv"), 0)) {
            SyntheticServers.awaitHealthy(node);
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = SyntheticServers.post(node, "/v1/completions",
                        "{\"model\":\"synthetic\",\"prompt\":\"the same long system prompt, again and again\",\"max_tokens\":4}");
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(r.body().contains("\"choices\""), r.body());
            }
        }
    }
}

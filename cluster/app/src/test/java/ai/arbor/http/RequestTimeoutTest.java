package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pekko's request timeout (no first token in time) answers in OpenAI's error shape too, not Pekko's plain text. */
class RequestTimeoutTest {

    @Test
    void aRequestWithNoAnswerInTimeIs503Json() throws Exception {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.served-model-name",
                "synthetic", "pekko.http.server.request-timeout", "1s"), null, Map.of()));
        ByteTokenizer tok = new ByteTokenizer();
        GatedEngine engine = new GatedEngine(new SyntheticEngine(512, 16, tok.eosTokenIds()));
        try (SingleNode node = SingleNode.start(s, new SingleNode.ModelSpec(tok, 512, SamplingDefaults.none()),
                engine)) {
            RawHttp.Response r = RawHttp.exchange(node.port(), RawHttp.post("/v1/completions", "application/json",
                    "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}"), CancelBeforeFirstTokenTest.TIMEOUT);
            r.assertOpenAiError(503);
            assertEquals("timeout", r.json().at("/error/code").asText(), r.body());
        }
    }
}

package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.protocol.LogitBias;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class LogitBiasParsingTest {
    private static final ObjectMapper M = new ObjectMapper();

    @Test
    void idsAndValuesReachTheSamplingParameters() throws Exception {
        LogitBias b = RequestParser.logitBias(M.readTree("{\"7\": -100, \"42\": 2.5}"), 100);
        assertArrayEquals(new int[]{7, 42}, b.tokenIds());
        assertArrayEquals(new float[]{-100f, 2.5f}, b.values());
        assertTrue(RequestParser.logitBias(null, 100).isEmpty());
        assertTrue(RequestParser.logitBias(M.readTree("null"), 100).isEmpty());
    }

    @Test
    void aNonObjectIsRefused() throws Exception {
        var e = assertThrows(RuntimeException.class, () -> RequestParser.logitBias(M.readTree("[1,2]"), 100));
        assertTrue(e.getMessage().contains("logit_bias"), e.getMessage());
    }
}

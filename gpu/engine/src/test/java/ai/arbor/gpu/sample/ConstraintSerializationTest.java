package ai.arbor.gpu.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.arbor.gpu.protocol.OutputConstraint;
import ai.arbor.gpu.protocol.SamplingParams;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A request's constraint is plain data: it survives the Jackson round trip that carries requests between nodes. */
class ConstraintSerializationTest {
    @Test
    void constraintCrossesAsData() throws Exception {
        // As Pekko's Jackson serializer configures it: derived getters such as isGreedy() are written, then skipped.
        ObjectMapper m = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        SamplingParams p = new SamplingParams(0.5, 1, 0, 0, 7L, 0, 0, 1, 20, 0, false, new int[] {5}, List.of("x"), null,
                OutputConstraint.jsonSchema("{\"type\":\"object\"}"));
        SamplingParams back = m.readValue(m.writeValueAsBytes(p), SamplingParams.class);
        assertEquals(p.constraint(), back.constraint());
        assertEquals(OutputConstraint.Kind.JSON_SCHEMA, back.constraint().kind());
        assertNull(m.readValue(m.writeValueAsBytes(SamplingParams.greedy(3)), SamplingParams.class).constraint());
    }
}

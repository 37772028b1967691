package ai.arbor.gpu.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.structured.ConstraintException;
import ai.arbor.gpu.protocol.OutputConstraint;
import com.github.erosb.jsonsKema.JsonParser;
import com.github.erosb.jsonsKema.SchemaLoader;
import com.github.erosb.jsonsKema.ValidationFailure;
import com.github.erosb.jsonsKema.Validator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Constrained decoding on the real CPU engine: tiny models, which write near-random text, must still produce output
 * that validates against the schema, sampled or greedy, several sequences at once over one cached prompt prefix.
 */
class StructuredOutputEngineTest {
    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":10},
              "age":{"type":"integer","minimum":0,"maximum":99},
              "pets":{"type":"array","items":{"enum":["cat","dog","fish"]},"maxItems":3},
              "home":{"type":"object","properties":{"city":{"type":"string","maxLength":8},"lat":{"type":"number","minimum":-90,"maximum":90}},
                      "required":["city"]}},
             "required":["name","age","pets","home"]}""";

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-llama"})
    void sampledAndGreedyOutputsValidateAndShareTheCachedPrompt(String model) {
        HfModel m = TinyModels.model(model);
        Validator validator = Validator.forSchema(new SchemaLoader(new JsonParser(SCHEMA).parse()).load());
        int[] prompt = m.tokenizer().encodeNoSpecial("Fortune: describe a person with a name, an age, some pets and a home town, written out as one JSON object.");
        try (LLMEngine engine = TinyModels.engine(model, EngineBehaviourTests.config(512, 16, 256, true))) {
            List<Collector> sinks = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                boolean greedy = i == 0;
                SamplingParams p = new SamplingParams(greedy ? 0 : 1.0, 1, 0, 0, (long) i, 0, 0, 1, 400, 0, false,
                        new int[0], List.of(), null, OutputConstraint.jsonSchema(SCHEMA));
                Collector c = new Collector();
                sinks.add(c);
                engine.addRequest(new EngineRequest("r" + i, prompt, p), c);
                // The first runs alone, so the others find its prompt blocks in the prefix cache.
                if (i == 0) while (engine.hasWork()) engine.step();
            }
            while (engine.hasWork()) engine.step();
            Set<String> texts = new HashSet<>();
            for (int i = 0; i < sinks.size(); i++) {
                Collector c = sinks.get(i);
                assertNull(c.error);
                String text = m.tokenizer().decode(c.tokenArray(), true);
                assertEquals(FinishReason.STOP, c.last.finishReason(), "request " + i + " ran out of tokens: " + text);
                texts.add(text);
                ValidationFailure f = validator.validate(new JsonParser(text).parse());
                assertNull(f, () -> text + ": " + f);
            }
            assertTrue(texts.size() > 1, "seeded samples all wrote the same JSON: " + texts);
            assertTrue(sinks.get(sinks.size() - 1).last.cachedTokens() > 0, "the shared prompt should hit the prefix cache");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-llama"})
    void choiceAndRegexHoldWithGreedyArgmax(String model) {
        HfModel m = TinyModels.model(model);
        int[] prompt = m.tokenizer().encodeNoSpecial("The answer is");
        try (LLMEngine engine = TinyModels.engine(model, EngineBehaviourTests.config(256, 8, 128, true))) {
            Collector choice = new Collector();
            Collector regex = new Collector();
            engine.addRequest(new EngineRequest("choice", prompt, SamplingParams.greedy(50)
                    .withConstraint(OutputConstraint.choice("[\"maybe later\",\"yes\",\"no\"]"))), choice);
            engine.addRequest(new EngineRequest("regex", prompt, SamplingParams.greedy(50)
                    .withConstraint(OutputConstraint.regex("[A-Z][a-z]{2,6} [0-9]{1,3}!"))), regex);
            while (engine.hasWork()) engine.step();
            String c = m.tokenizer().decode(choice.tokenArray(), true);
            assertTrue(Set.of("maybe later", "yes", "no").contains(c), c);
            assertEquals(FinishReason.STOP, choice.last.finishReason());
            String r = m.tokenizer().decode(regex.tokenArray(), true);
            assertTrue(r.matches("[A-Z][a-z]{2,6} [0-9]{1,3}!"), r);
            assertEquals(FinishReason.STOP, regex.last.finishReason());
            assertFalse(engine.hasWork());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2"})
    void aMigratedRequestContinuesItsConstraintFromItsGeneratedTokens(String model) {
        HfModel m = TinyModels.model(model);
        int[] prompt = m.tokenizer().encodeNoSpecial("The answer is");
        String schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},"
                + "\"b\":{\"enum\":[\"x\",\"y\"]}},\"required\":[\"a\",\"b\"]}";
        int[] partial = m.tokenizer().encodeNoSpecial("{\"a\": 7, \"b\"");
        int[] moved = java.util.Arrays.copyOf(prompt, prompt.length + partial.length);
        System.arraycopy(partial, 0, moved, prompt.length, partial.length);
        try (LLMEngine engine = TinyModels.engine(model, EngineBehaviourTests.config(64, 4, 64, true))) {
            Collector c = new Collector();
            engine.addRequest(new EngineRequest("moved", moved, SamplingParams.builder().temperature(1).seed(3L)
                    .maxTokens(30).constraint(OutputConstraint.jsonSchema(schema)).build(), partial.length), c);
            while (engine.hasWork()) engine.step();
            String rest = m.tokenizer().decode(c.tokenArray(), true);
            assertEquals(FinishReason.STOP, c.last.finishReason(), rest);
            assertTrue(rest.matches(": ?\"[xy]\"}"), "continued the document: " + rest);
            assertThrows(IllegalArgumentException.class, () -> engine.addRequest(new EngineRequest("wrong", moved,
                    SamplingParams.greedy(5).withConstraint(OutputConstraint.regex("[0-9]+")), partial.length), c));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2"})
    void aBadConstraintIsRefusedWhenAdded(String model) {
        try (LLMEngine engine = TinyModels.engine(model, EngineBehaviourTests.config(64, 4, 64, true))) {
            ConstraintException e = assertThrows(ConstraintException.class, () -> engine.addRequest(new EngineRequest(
                    "bad", new int[] {1, 2, 3}, SamplingParams.greedy(5).withConstraint(
                            OutputConstraint.jsonSchema("{\"type\":\"object\",\"patternProperties\":{}}"))), new Collector()));
            assertTrue(e.getMessage().contains("patternProperties"), e.getMessage());
            assertFalse(engine.hasWork());
        }
    }
}

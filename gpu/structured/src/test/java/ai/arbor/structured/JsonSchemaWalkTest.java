package ai.arbor.structured;

import ai.arbor.gpu.protocol.OutputConstraint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.erosb.jsonsKema.JsonParser;
import com.github.erosb.jsonsKema.SchemaLoader;
import com.github.erosb.jsonsKema.ValidationFailure;
import com.github.erosb.jsonsKema.Validator;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random walks over tiny-qwen2's real vocabulary under JSON schemas: every finished text must parse and validate
 * against its schema with an independent validator (json-sKema), and walks must be able to finish.
 */
class JsonSchemaWalkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WALKS = 40;

    private static final String NESTED = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":12},
              "age":{"type":"integer","minimum":0,"maximum":120},
              "address":{"type":"object","properties":{
                  "city":{"type":"string","minLength":1,"maxLength":8},
                  "zip":{"type":"string","pattern":"^[0-9]{5}$"}},
                "required":["city","zip"]},
              "tags":{"type":"array","items":{"type":"string","maxLength":5},"minItems":1,"maxItems":3},
              "role":{"enum":["admin","user",null,7]},
              "score":{"type":"number","minimum":-5,"maximum":5},
              "nickname":{"type":["string","null"],"maxLength":6}},
             "required":["name","age","address","role"]}""";

    @ParameterizedTest
    @ValueSource(strings = {
        NESTED,
        """
        {"type":"array","items":{"type":"object","properties":{"x":{"type":"number"},"ok":{"type":"boolean"}},
         "required":["x"]},"maxItems":4}""",
        """
        {"type":"object","properties":{"when":{"type":"string","format":"date-time"},
         "id":{"type":"string","format":"uuid"},"kind":{"const":"event"},
         "n":{"type":"integer","exclusiveMinimum":-3,"exclusiveMaximum":3}},"required":["when","id","kind","n"]}""",
        """
        {"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},
           "required":["x","y"]}},
         "type":"object","properties":{"a":{"$ref":"#/$defs/point"},"b":{"anyOf":[{"$ref":"#/$defs/point"},{"type":"null"}]}},
         "required":["a","b"]}""",
        """
        {"type":"object","additionalProperties":{"type":"integer","minimum":1,"maximum":9}}""",
        """
        {"type":"object","properties":{"opt1":{"type":"boolean"},"opt2":{"type":"null"},"opt3":{"enum":["p","q"]}}}"""
    })
    void everyFinishedWalkValidates(String schema) throws Exception {
        TokenVocabulary vocab = Vocabularies.of("tiny-qwen2");
        StructuredOutputs so = new StructuredOutputs(() -> vocab, 2048, new int[] {2046, 2044}, new GrammarCompiler(8), 8);
        Validator validator = Validator.forSchema(new SchemaLoader(new JsonParser(schema).parse()).load());
        SplittableRandom rng = new SplittableRandom(42);
        int finished = 0;
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < WALKS; i++) {
            String text = RandomWalk.walk(so.matcher(OutputConstraint.jsonSchema(schema)), vocab, 2046, rng, 3000);
            if (text == null) continue;
            finished++;
            distinct.add(text);
            JsonNode parsed = JSON.readTree(text);
            assertNotNull(parsed, text);
            ValidationFailure failure = validator.validate(new JsonParser(text).parse());
            assertNull(failure, () -> text + " fails " + schema + ": " + failure);
        }
        assertTrue(finished >= WALKS * 3 / 4, "only " + finished + " of " + WALKS + " walks finished");
        assertTrue(distinct.size() > 1, "random walks all wrote the same text");
    }

    @org.junit.jupiter.api.Test
    void jsonObjectWalksAreObjects() throws Exception {
        TokenVocabulary vocab = Vocabularies.of("tiny-qwen2");
        StructuredOutputs so = new StructuredOutputs(() -> vocab, 2048, new int[] {2046}, new GrammarCompiler(8), 8);
        SplittableRandom rng = new SplittableRandom(7);
        int finished = 0;
        for (int i = 0; i < WALKS; i++) {
            String text = RandomWalk.walk(so.matcher(OutputConstraint.jsonObject()), vocab, 2046, rng, 3000);
            if (text == null) continue;
            finished++;
            assertTrue(JSON.readTree(text).isObject(), text);
        }
        assertTrue(finished > 0, "no walk finished");
    }

    @org.junit.jupiter.api.Test
    void choiceAndRegexWalksMatch() {
        TokenVocabulary vocab = Vocabularies.of("tiny-llama");
        StructuredOutputs so = new StructuredOutputs(() -> vocab, 2048, new int[] {2047}, new GrammarCompiler(8), 8);
        SplittableRandom rng = new SplittableRandom(3);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < WALKS; i++) {
            String text = RandomWalk.walk(so.matcher(OutputConstraint.choice("[\"red\",\"green\",\"blüe ✓\"]")), vocab, 2047, rng, 50);
            assertTrue(Set.of("red", "green", "blüe ✓").contains(text), text);
            seen.add(text);
            String phone = RandomWalk.walk(so.matcher(OutputConstraint.regex("\\(\\d{3}\\) \\d{3}-\\d{4}( x\\d{1,4})?")),
                    vocab, 2047, rng, 50);
            assertTrue(phone.matches("\\(\\d{3}\\) \\d{3}-\\d{4}( x\\d{1,4})?"), phone);
        }
        assertEquals(3, seen.size(), "every choice should come up in " + WALKS + " walks: " + seen);
    }
}

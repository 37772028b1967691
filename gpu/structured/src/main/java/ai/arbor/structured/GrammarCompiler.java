package ai.arbor.structured;

import ai.arbor.gpu.protocol.OutputConstraint;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import dk.brics.automaton.BasicOperations;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles an {@link OutputConstraint} into the character automaton of the texts it allows, independent of any
 * vocabulary: the frontend uses it to reject a bad schema before tokenizing, the engine to build token masks.
 * Results are cached per constraint.
 */
public final class GrammarCompiler {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_CACHE = 256;
    private static final GrammarCompiler SHARED = new GrammarCompiler(DEFAULT_CACHE);

    private final BoundedCache<OutputConstraint, CharDfa> cache;

    public GrammarCompiler(int cacheSize) { this.cache = new BoundedCache<>(cacheSize); }

    /** One compiler per JVM, so the frontend's validation and a local engine share compiled grammars. */
    public static GrammarCompiler shared() { return SHARED; }

    /**
     * Checks that the constraint compiles.
     *
     * @throws ConstraintException naming what is wrong and where
     */
    public void validate(OutputConstraint c) { compile(c); }

    CharDfa compile(OutputConstraint c) { return cache.get(c, GrammarCompiler::build); }

    int cachedGrammars() { return cache.size(); }

    private static CharDfa build(OutputConstraint c) {
        Automaton a = switch (c.kind()) {
            case JSON_OBJECT -> JsonGrammar.anyObject(JsonGrammar.ANY_VALUE_DEPTH);
            case JSON_SCHEMA -> JsonSchemaCompiler.compile(c.text());
            case REGEX -> RegexParser.fullMatch(c.text(), "");
            case CHOICE -> choices(c.text());
        };
        CharDfa dfa = CharDfa.of(a);
        if (dfa.isEmpty()) throw new ConstraintException("", "the constraint matches no text at all");
        return dfa;
    }

    private static Automaton choices(String json) {
        JsonNode arr;
        try {
            arr = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConstraintException("", "choice must be a JSON array of strings");
        }
        if (arr == null || !arr.isArray() || arr.isEmpty()) {
            throw new ConstraintException("", "choice must be a non-empty array of strings");
        }
        List<Automaton> all = new ArrayList<>();
        for (int k = 0; k < arr.size(); k++) {
            if (!arr.get(k).isTextual()) throw new ConstraintException("/" + k, "choice must list strings only");
            all.add(BasicAutomata.makeString(arr.get(k).asText()));
        }
        return BasicOperations.union(all);
    }
}

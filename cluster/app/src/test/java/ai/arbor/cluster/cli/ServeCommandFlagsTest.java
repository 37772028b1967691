package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Flags of {@code arbor serve} land on the right HOCON keys and outrank the environment. */
class ServeCommandFlagsTest {

    @Test
    void flagsOverrideEnvironment() {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--model", "/models/Qwen2.5-1.5B-Instruct", "--port", "9001", "--host", "0.0.0.0",
                "--device", "synthetic", "--max-num-seqs", "32", "--kv-cache-memory", "256MiB", "--router-mode",
                "round-robin");
        ArborSettings s = ArborSettings.from(ArborConfig.load(cmd.overrides(), null,
                Map.of("ARBOR_PORT", "7000", "ARBOR_SERVED_MODEL_NAME", "from-env")));
        assertEquals(9001, s.port());
        assertEquals("0.0.0.0", s.host());
        assertEquals("from-env", s.servedModelName());
        assertEquals("synthetic", s.device());
        assertEquals(32, s.engine().maxNumSeqs());
        assertEquals(256L << 20, s.engine().kvCacheMemoryBytes());
        assertEquals("round-robin", s.router().mode());
    }

    @Test
    void servedModelNameDefaultsToTheDirectoryName() {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--model", "/models/Qwen2.5-1.5B-Instruct");
        assertEquals("Qwen2.5-1.5B-Instruct", ArborSettings.from(ArborConfig.load(cmd.overrides(), null, Map.of()))
                .servedModelName());
    }

    @Test
    void chatParsersAndTemplate() {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--tool-call-parser", "llama3_json", "--reasoning-parser", "qwen3",
                "--chat-template", "src/test/resources/templates/tiny-think.jinja");
        ArborSettings s = ArborSettings.from(ArborConfig.load(cmd.overrides(), null,
                Map.of("ARBOR_TOOL_CALL_PARSER", "hermes")));
        assertEquals("llama3_json", s.chat().toolCallParser());
        assertEquals("qwen3", s.chat().reasoningParser());
        assertTrue(s.chat().chatTemplate().orElseThrow().endsWith("tiny-think.jinja"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(
                ArborConfig.load(Map.of("arbor.chat.reasoning-parser", "o1"), null, Map.of())));
        assertTrue(bad.getMessage().contains("arbor.chat.reasoning-parser"), bad.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(
                ArborConfig.load(Map.of("arbor.chat.chat-template", "no/such.jinja"), null, Map.of())));
        assertTrue(missing.getMessage().contains("no/such.jinja"), missing.getMessage());
    }

    @Test
    void unknownFlagsAreRejected() {
        assertThrows(CommandLine.UnmatchedArgumentException.class,
                () -> new CommandLine(new ServeCommand()).parseArgs("--modle", "x"));
    }
}

package ai.arbor.gpu.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TokenizerNativeTest {

    @Test
    void loadingATokenizerPinsDjlToTheCpuBuildAndOfflineMode() {
        assumeTrue(System.getenv(TokenizerNative.FLAVOR) == null, "the environment names a flavor itself");
        assumeTrue(System.getenv(TokenizerNative.OFFLINE) == null, "the environment sets offline mode itself");
        try (HfTokenizer t = HfTokenizer.load(Path.of("../../models/tiny-qwen2"))) {
            assertEquals("cpu", System.getProperty(TokenizerNative.FLAVOR));
            assertEquals("true", System.getProperty(TokenizerNative.OFFLINE));
            assertEquals(t.decode(t.encode("hello world"), false), "hello world");
        }
    }

    @Test
    void aPropertyTheOperatorSetIsKept() {
        String key = TokenizerNative.OFFLINE;
        String before = System.getProperty(key);
        assumeTrue(System.getenv(key) == null);
        try {
            System.setProperty(key, "false");
            TokenizerNative.pinCpuBuild();
            assertEquals("false", System.getProperty(key));
        } finally {
            if (before == null) System.clearProperty(key); else System.setProperty(key, before);
        }
    }
}

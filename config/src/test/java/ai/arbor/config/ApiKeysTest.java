package ai.arbor.config;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {

    @Test
    void aKeysFileNamesEachKeyAndTheSingleKeyIsDefault(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "# comment\nalice sk-a\n\n  bob\tsk-b  \n");
        ApiKeys keys = ApiKeys.load("sk-env", file);
        assertTrue(keys.required());
        assertEquals(3, keys.size());
        assertEquals(Optional.of("alice"), keys.nameOf("sk-a"));
        assertEquals(Optional.of("bob"), keys.nameOf("sk-b"));
        assertEquals(Optional.of(ApiKeys.DEFAULT_NAME), keys.nameOf("sk-env"));
        assertEquals(Optional.empty(), keys.nameOf("sk-c"));
        assertEquals(Optional.empty(), keys.nameOf(""));
        assertFalse(keys.toString().contains("sk-"), keys.toString());
        assertFalse(ApiKeys.load("", null).required());
    }

    @Test
    void aBadLineIsNamedByItsNumberNotItsContent(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "alice sk-a\nsk-secret-without-name\n");
        var e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.load(null, file));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertFalse(e.getMessage().contains("sk-secret"), e.getMessage());
        Files.writeString(file, "a sk-a\nb sk-a\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ApiKeys.load(null, file)).getMessage()
                .contains("twice"));
    }

    @Test
    void settingsReadKeysFromTheEnvironmentAndTlsNeedsBothFiles() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_API_KEY", "sk-x")));
        assertEquals(Optional.of("default"), s.frontend().security().apiKeys().nameOf("sk-x"));
        assertTrue(s.frontend().security().metricsRequireKey());
        assertFalse(s.frontend().security().tls());
        var e = assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(ArborConfig.load(
                Map.of("arbor.frontend.tls.cert-file", "/c.pem"), null, Map.of())));
        assertTrue(e.getMessage().contains("key-file"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(ArborConfig.load(
                Map.of("arbor.frontend.limits.max-queued-tokens", 0), null, Map.of())));
    }

    @Test
    void theScrapeKeyFileHoldsOneKeyThatOnlyMetricsAccepts(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, "  sk-scrape\n");
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null,
                Map.of("ARBOR_API_KEY", "sk-x", "ARBOR_METRICS_KEY_FILE", file.toString())));
        HttpSecurity sec = s.frontend().security();
        assertEquals(Optional.empty(), sec.apiKeys().nameOf("sk-scrape"));
        assertEquals(Optional.of(HttpSecurity.METRICS_KEY_NAME), sec.metricsKeys().nameOf("sk-scrape"));
        assertEquals(Optional.of("default"), sec.metricsKeys().nameOf("sk-x"));
        Files.writeString(file, "sk-a sk-secret\n");
        var e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.loadSingle(file, "m", "setting"));
        assertFalse(e.getMessage().contains("sk-secret"), e.getMessage());
    }
}

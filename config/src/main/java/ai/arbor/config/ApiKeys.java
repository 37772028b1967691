package ai.arbor.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The API keys a frontend accepts, each with a name for the request log. Only SHA-256 digests of the keys are kept,
 * so that neither a heap dump nor a toString() shows a key, and a lookup compares digests rather than the secret.
 *
 * <p>Keys file: one key per line as {@code NAME KEY} (whitespace between); blank lines and lines starting with
 * {@code #} are skipped.
 */
public final class ApiKeys {
    /** The name a key given alone ({@code --api-key}, {@code ARBOR_API_KEY}) has in the request log. */
    public static final String DEFAULT_NAME = "default";

    private final Map<String, String> nameByDigest;

    private ApiKeys(Map<String, String> nameByDigest) { this.nameByDigest = Map.copyOf(nameByDigest); }

    public static ApiKeys none() { return new ApiKeys(Map.of()); }

    /**
     * @param key  a single key, or blank for none
     * @param file a keys file, or null
     */
    public static ApiKeys load(String key, Path file) {
        Map<String, String> keys = new HashMap<>();
        if (key != null && !key.isBlank()) keys.put(digest(key.trim()), DEFAULT_NAME);
        if (file != null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("arbor.frontend.api-keys-file: cannot read " + file + ": " + e, e);
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                String[] parts = line.split("\\s+");
                if (parts.length != 2) {
                    // the line itself may hold a key: name its number only
                    throw new IllegalArgumentException("arbor.frontend.api-keys-file " + file + " line " + (i + 1)
                            + ": expected 'NAME KEY'");
                }
                if (keys.put(digest(parts[1]), parts[0]) != null) {
                    throw new IllegalArgumentException("arbor.frontend.api-keys-file " + file + " line " + (i + 1)
                            + ": this key is listed twice");
                }
            }
        }
        return new ApiKeys(keys);
    }

    /**
     * A key held alone in a file, as a Kubernetes Secret key holds it (surrounding whitespace and a final newline
     * dropped), under {@code name}.
     */
    public static ApiKeys loadSingle(Path file, String name, String setting) {
        String key;
        try {
            key = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException(setting + ": cannot read " + file + ": " + e, e);
        }
        if (key.isEmpty() || key.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(setting + " " + file + ": expected one key and nothing else");
        }
        return new ApiKeys(Map.of(digest(key), name));
    }

    /** These keys and {@code other}'s; a key in both keeps this set's name. */
    public ApiKeys and(ApiKeys other) {
        Map<String, String> all = new HashMap<>(other.nameByDigest);
        all.putAll(nameByDigest);
        return new ApiKeys(all);
    }

    /** True when keys are configured, i.e. requests must present one. */
    public boolean required() { return !nameByDigest.isEmpty(); }

    /** The key's name, or empty for an unknown key. */
    public Optional<String> nameOf(String presented) {
        if (presented == null || presented.isEmpty()) return Optional.empty();
        return Optional.ofNullable(nameByDigest.get(digest(presented)));
    }

    public int size() { return nameByDigest.size(); }

    @Override
    public String toString() { return "ApiKeys[" + nameByDigest.size() + " keys]"; }

    private static String digest(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

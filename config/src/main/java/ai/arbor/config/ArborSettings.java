package ai.arbor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The typed view of the {@code arbor} block. Invalid values fail here, at start-up, with the key's full name.
 *
 * @param servedModelName never blank: defaults to the model directory's name
 */
public record ArborSettings(Path model, String servedModelName, String host, int port, String device,
                            EngineSettings engine, FrontendSettings frontend, RouterSettings router, Config raw) {

    public static final Set<String> DEVICES = Set.of("cpu", "cuda", "synthetic");

    /** {@code cuda:N}: the N-th CUDA device ({@code cuda} alone is device 0). */
    private static final Pattern CUDA_DEVICE = Pattern.compile("cuda(:(0|[1-9][0-9]{0,3}))?");

    public static ArborSettings from(Config root) {
        try {
            Config c = root.getConfig("arbor");
            Path model = resolveModel(Path.of(c.getString("model")));
            String served = c.getString("served-model-name").trim();
            if (served.isEmpty()) {
                Path name = model.getFileName();
                served = name == null ? "model" : name.toString();
            }
            int port = c.getInt("port");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("arbor.port must be in 0..65535, got " + port);
            String device = c.getString("device").trim().toLowerCase(Locale.ROOT);
            if (!DEVICES.contains(device) && !CUDA_DEVICE.matcher(device).matches()) {
                throw new IllegalArgumentException("arbor.device must be cpu, cuda, cuda:N or synthetic, got '"
                        + device + "'");
            }
            ChatSettings.from(c.getConfig("chat"));
            return new ArborSettings(model, served, c.getString("host"), port, device,
                    EngineSettings.from(c.getConfig("engine"), device), FrontendSettings.from(c.getConfig("frontend"), root),
                    RouterSettings.from(c.getConfig("router")), root);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("bad configuration: " + e.getMessage(), e);
        }
    }

    /**
     * A relative model path is taken from the working directory, or else from the Arbor checkout ({@code bin/arbor}
     * sets {@code -Darbor.home}), so that {@code bin/arbor serve} finds {@code models/tiny-qwen2} from anywhere.
     */
    static Path resolveModel(Path model) {
        if (model.isAbsolute() || java.nio.file.Files.exists(model)) return model.toAbsolutePath().normalize();
        String home = System.getProperty("arbor.home");
        if (home != null && java.nio.file.Files.exists(Path.of(home).resolve(model))) {
            return Path.of(home).resolve(model).toAbsolutePath().normalize();
        }
        return model.toAbsolutePath().normalize();
    }

    /** {@code arbor.chat}, checked at start-up by {@link #from}. */
    public ChatSettings chat() { return ChatSettings.from(raw.getConfig("arbor.chat")); }

    /** True for {@code cuda} and {@code cuda:N}. */
    public boolean isCuda() { return CUDA_DEVICE.matcher(device).matches(); }

    /** The same settings with another port (tests bind port 0 and learn the real one). */
    public ArborSettings withPort(int newPort) {
        return new ArborSettings(model, servedModelName, host, newPort, device, engine, frontend, router, raw);
    }
}

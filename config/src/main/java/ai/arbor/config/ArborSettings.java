package ai.arbor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;

/**
 * The typed view of the {@code arbor} block. Invalid values fail here, at start-up, with the key's full name.
 *
 * @param servedModelName never blank: defaults to the model directory's name
 * @param device       {@code arbor.device} as checked by {@link Devices}: one device, or a list of CUDA devices
 */
public record ArborSettings(Path model, String servedModelName, String host, int port, String device,
                            EngineSettings engine, FrontendSettings frontend, RouterSettings router, Config raw) {

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
            Devices devices = Devices.parse("arbor.device", c.getString("device"));
            ChatSettings.from(c.getConfig("chat"));
            return new ArborSettings(model, served, c.getString("host"), port, devices.toString(),
                    EngineSettings.from(c.getConfig("engine"), devices), FrontendSettings.from(c.getConfig("frontend"), root),
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

    /** {@link #device()} as its list of devices, one engine on each. */
    public Devices devices() { return Devices.parse("arbor.device", device); }

    /** True for {@code cuda}, {@code cuda:N} and lists of them. */
    public boolean isCuda() { return devices().isCuda(); }

    /** True for {@code synthetic} and lists of it. */
    public boolean isSynthetic() { return devices().isSynthetic(); }

    /** The same settings with another port (tests bind port 0 and learn the real one). */
    public ArborSettings withPort(int newPort) {
        return new ArborSettings(model, servedModelName, host, newPort, device, engine, frontend, router, raw);
    }
}

package ai.arbor.it.support;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds an executable on PATH (plus /usr/sbin, where Debian puts nats-server) with a clear error when it is missing. */
public final class Which {
    private Which() {}

    public static boolean available(String name) {
        return lookup(name) != null;
    }

    public static String find(String name, String hint) {
        String found = lookup(name);
        if (found == null) throw new IllegalStateException("'" + name + "' not found on PATH or in /usr/sbin: install " + hint);
        return found;
    }

    private static String lookup(String name) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/usr/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) return candidate.toString();
        }
        return null;
    }
}

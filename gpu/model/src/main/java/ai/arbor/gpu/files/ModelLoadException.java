package ai.arbor.gpu.files;

import java.nio.file.Path;

/** A model directory that cannot be served; the message always names the file and, where it applies, the field. */
public final class ModelLoadException extends RuntimeException {
    private final Path file;
    private final String field;

    public ModelLoadException(Path file, String field, String problem) {
        super(file + (field == null ? "" : ": field '" + field + "'") + ": " + problem);
        this.file = file;
        this.field = field;
    }

    public ModelLoadException(Path file, String field, String problem, Throwable cause) {
        this(file, field, problem);
        initCause(cause);
    }

    public Path file() { return file; }

    public String field() { return field; }
}

package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;

/** Writes a report as JSON with snake_case keys, the style of vLLM's result files. */
public final class ReportJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private ReportJson() { }

    public static void write(BenchReport report, Path file) {
        try {
            JSON.writeValue(file.toFile(), report);
        } catch (IOException e) {
            throw new BenchException("cannot write " + file + ": " + e.getMessage());
        }
    }

    public static String toJson(BenchReport report) {
        try {
            return JSON.writeValueAsString(report);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks the server which models it serves before the run starts, so an unreachable server or a wrong model name is one
 * clear error instead of N failed requests.
 */
final class ServerProbe {
    private ServerProbe() { }

    /** The model to benchmark: {@code requested} if the server serves it, else the server's first when none given. */
    static String resolveModel(HttpClient http, URI base, String requested) {
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(base.resolve("/v1/models")).timeout(Duration.ofSeconds(15))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new BenchException("cannot reach the server at " + base + ": " + StreamingClient.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchException("interrupted while contacting " + base);
        }
        if (response.statusCode() != 200) {
            if (requested != null) {
                return requested;
            }
            throw new BenchException(base + "/v1/models answered " + response.statusCode()
                    + ": pass the model name with --model");
        }
        List<String> ids = new ArrayList<>();
        try {
            for (JsonNode m : new ObjectMapper().readTree(response.body()).path("data")) {
                ids.add(m.path("id").asText());
            }
        } catch (IOException e) {
            throw new BenchException(base + "/v1/models did not answer JSON: " + StreamChunk.abbreviate(response.body()));
        }
        if (requested == null) {
            if (ids.isEmpty()) {
                throw new BenchException("the server at " + base + " serves no models yet");
            }
            return ids.get(0);
        }
        if (!ids.isEmpty() && !ids.contains(requested)) {
            throw new BenchException("the server at " + base + " does not serve model '" + requested + "' (it serves "
                    + String.join(", ", ids) + ")");
        }
        return requested;
    }
}

package ai.arbor.cluster.serve;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.model.quant.E4m3;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model directory that is already FP8 (tiny-qwen2's linear layers as F8_E4M3 codes with per-tensor weight_scale,
 * config.json declaring {@code quant_method} fp8) starts the way {@code arbor serve} starts a model, on the CPU, and
 * says that it keeps the checkpoint's FP8; without the declaration it stops at load, naming the field.
 */
class Fp8CheckpointLoadTest {
    @TempDir
    Path dir;

    @Test
    void anFp8CheckpointStartsAndSaysSo() throws IOException {
        writeFp8Copy(true);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", dir.toString()), null, Map.of()));
        try (LoadedModel m = LoadedModel.load(s, new PrintStream(progress, true, StandardCharsets.UTF_8))) {
            assertEquals(1, m.engines().size());
        }
        String out = progress.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("FP8 weights as the checkpoint has them"), out);
    }

    @Test
    void fp8WeightsWithoutAQuantizationConfigStopAtLoad() throws IOException {
        writeFp8Copy(false);
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", dir.toString()), null, Map.of()));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> LoadedModel.load(s, new PrintStream(OutputStream.nullOutputStream())));
        assertEquals("quantization_config", e.field());
        assertTrue(e.getMessage().contains("F8_E4M3"), e.getMessage());
    }

    /** models/tiny-qwen2 into {@link #dir} with its decoder layers' linear weights as E4M3 codes and a scale each. */
    private void writeFp8Copy(boolean declare) throws IOException {
        Path src = tinyQwen2();
        try (var files = Files.list(src)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().equals("model.safetensors")) Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        if (declare) {
            ObjectNode config = (ObjectNode) JsonFiles.MAPPER.readTree(dir.resolve("config.json").toFile());
            config.putObject("quantization_config").put("quant_method", "fp8").put("activation_scheme", "dynamic");
            JsonFiles.MAPPER.writeValue(dir.resolve("config.json").toFile(), config);
        }
        byte[] file = Files.readAllBytes(src.resolve("model.safetensors"));
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = (int) b.getLong(0);
        JsonNode header = JsonFiles.MAPPER.readTree(new String(file, 8, headerLen, StandardCharsets.UTF_8));
        Map<String, Object[]> out = new LinkedHashMap<>(); // name -> {dtype, shape, bytes}
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            int begin = 8 + headerLen + t.get("data_offsets").get(0).asInt();
            int end = 8 + headerLen + t.get("data_offsets").get(1).asInt();
            String name = e.getKey();
            if (!(name.startsWith("model.layers.") && name.endsWith("_proj.weight"))) {
                out.put(name, new Object[]{t.get("dtype").asText(), t.get("shape"), Arrays.copyOfRange(file, begin, end)});
                continue;
            }
            assertEquals("BF16", t.get("dtype").asText(), name);
            int n = (end - begin) / 2;
            float[] v = new float[n];
            float amax = 0;
            for (int i = 0; i < n; i++) {
                v[i] = Float.intBitsToFloat((b.getShort(begin + 2 * i) & 0xffff) << 16);
                amax = Math.max(amax, Math.abs(v[i]));
            }
            float scale = amax / 448f;
            byte[] codes = new byte[n];
            for (int i = 0; i < n; i++) codes[i] = E4m3.encode(v[i] / scale);
            out.put(name, new Object[]{"F8_E4M3", t.get("shape"), codes});
            byte[] s = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(scale).array();
            out.put(name + "_scale", new Object[]{"F32", JsonFiles.MAPPER.createArrayNode(), s});
        }
        ObjectNode h = JsonFiles.MAPPER.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, Object[]> e : out.entrySet()) {
            ObjectNode t = h.putObject(e.getKey());
            t.put("dtype", (String) e.getValue()[0]);
            t.set("shape", (JsonNode) e.getValue()[1]);
            byte[] data = (byte[]) e.getValue()[2];
            t.putArray("data_offsets").add(offset).add(offset + data.length);
            offset += data.length;
        }
        byte[] json = JsonFiles.MAPPER.writeValueAsBytes(h);
        try (OutputStream o = Files.newOutputStream(dir.resolve("model.safetensors"))) {
            o.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            o.write(json);
            for (Object[] t : out.values()) o.write((byte[]) t[2]);
        }
    }

    private static Path tinyQwen2() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("models").resolve("tiny-qwen2");
            if (Files.isDirectory(candidate)) return candidate;
        }
        throw new IllegalStateException("models/tiny-qwen2 not found above " + Path.of("").toAbsolutePath());
    }
}

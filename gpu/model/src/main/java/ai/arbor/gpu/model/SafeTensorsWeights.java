package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weights from {@code model.safetensors} or the shards listed in {@code model.safetensors.index.json}, memory-mapped.
 * Each tensor's byte range is mapped on its own: a shard may exceed the 2 GiB a single {@link ByteBuffer} can address,
 * while no single tensor we serve does.
 */
public final class SafeTensorsWeights implements Weights {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    /** safetensors refuses headers above 100 MB; so do we, so a garbage length fails fast. */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private final Path dir;
    private final Map<String, Tensor> tensors;
    private final Map<String, Path> fileOf;
    private final List<FileChannel> channels;

    private SafeTensorsWeights(Path dir, Map<String, Tensor> tensors, Map<String, Path> fileOf, List<FileChannel> channels) {
        this.dir = dir;
        this.tensors = tensors;
        this.fileOf = fileOf;
        this.channels = channels;
    }

    /** The checkpoint of a model directory: the single file if present, else the sharded index. */
    public static SafeTensorsWeights open(Path dir) {
        Path single = dir.resolve(SINGLE);
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(single)) return openFiles(dir, List.of(single));
        if (Files.isRegularFile(index)) return openFiles(dir, shards(index));
        throw new ModelLoadException(single, null, "file not found (nor " + INDEX + ")");
    }

    /** The shard files named in an index's {@code weight_map}, in first-appearance order. */
    static List<Path> shards(Path index) {
        JsonNode root = JsonFiles.read(index);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty())
            throw new ModelLoadException(index, "weight_map", "required non-empty object is missing");
        Set<Path> files = new LinkedHashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual())
                throw new ModelLoadException(index, "weight_map." + e.getKey(), "expected a file name, got " + e.getValue());
            Path shard = index.resolveSibling(e.getValue().asText());
            if (!Files.isRegularFile(shard))
                throw new ModelLoadException(shard, null, "file not found (listed in " + index.getFileName()
                        + " for tensor '" + e.getKey() + "')");
            files.add(shard);
        }
        return new ArrayList<>(files);
    }

    public static SafeTensorsWeights openFiles(Path dir, List<Path> files) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Path> fileOf = new LinkedHashMap<>();
        List<FileChannel> channels = new ArrayList<>();
        try {
            for (Path file : files) {
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                channels.add(ch);
                readFile(file, ch, tensors, fileOf);
            }
        } catch (IOException e) {
            closeAll(channels);
            throw new ModelLoadException(files.get(Math.max(0, channels.size() - 1)), null, "cannot read: " + e, e);
        } catch (RuntimeException e) {
            closeAll(channels);
            throw e;
        }
        return new SafeTensorsWeights(dir, Collections.unmodifiableMap(tensors), fileOf, channels);
    }

    private static void readFile(Path file, FileChannel ch, Map<String, Tensor> out, Map<String, Path> fileOf)
            throws IOException {
        long size = ch.size();
        if (size < 8) throw new ModelLoadException(file, null, "too short for a safetensors header (" + size + " bytes)");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size)
            throw new ModelLoadException(file, null, "invalid safetensors header length " + headerLen
                    + " (file has " + size + " bytes)");
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headerBuf, 8);
        JsonNode header;
        try {
            header = JsonFiles.MAPPER.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ModelLoadException(file, null, "malformed safetensors header JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject())
            throw new ModelLoadException(file, null, "safetensors header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            if (name.equals("__metadata__")) continue;
            JsonNode info = e.getValue();
            DType dtype = dtype(file, name, info.get("dtype"));
            long[] shape = shape(file, name, info.get("shape"));
            JsonNode offs = info.get("data_offsets");
            if (offs == null || !offs.isArray() || offs.size() != 2 || !offs.get(0).canConvertToLong()
                    || !offs.get(1).canConvertToLong())
                throw new ModelLoadException(file, name + ".data_offsets", "expected [begin, end], got " + offs);
            long begin = offs.get(0).asLong(), end = offs.get(1).asLong();
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            long bytes = n * dtype.bytes();
            if (begin < 0 || end < begin || end > dataLen)
                throw new ModelLoadException(file, name + ".data_offsets", "[" + begin + ", " + end
                        + "] lies outside the " + dataLen + " data bytes");
            if (end - begin != bytes)
                throw new ModelLoadException(file, name + ".data_offsets", "holds " + (end - begin)
                        + " bytes but shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
            if (bytes > Integer.MAX_VALUE)
                throw new ModelLoadException(file, name, "tensor of " + bytes + " bytes exceeds 2 GiB");
            ByteBuffer data = bytes == 0 ? ByteBuffer.allocate(0)
                    : ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, bytes);
            data = data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
            Path previous = fileOf.put(name, file);
            if (previous != null)
                throw new ModelLoadException(file, name, "tensor also present in " + previous);
            out.put(name, new Tensor(name, dtype, shape, data));
        }
    }

    private static DType dtype(Path file, String name, JsonNode v) {
        String s = v == null ? null : v.asText();
        if (s == null) throw new ModelLoadException(file, name + ".dtype", "required field is missing");
        return switch (s) {
            case "BF16" -> DType.BF16;
            case "F16" -> DType.F16;
            case "F32" -> DType.F32;
            case "F8_E4M3" -> DType.F8_E4M3;
            default -> throw new ModelLoadException(file, name + ".dtype",
                    "unsupported dtype '" + s + "' (supported: BF16, F16, F32, F8_E4M3)");
        };
    }

    private static long[] shape(Path file, String name, JsonNode v) {
        if (v == null || !v.isArray()) throw new ModelLoadException(file, name + ".shape", "expected a list, got " + v);
        long[] shape = new long[v.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = v.get(i);
            if (!d.canConvertToLong() || d.asLong() < 0)
                throw new ModelLoadException(file, name + ".shape", "invalid dimension " + d);
            shape[i] = d.asLong();
        }
        return shape;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static void closeAll(List<FileChannel> channels) {
        for (FileChannel c : channels) {
            try { c.close(); } catch (IOException ignored) { /* closing a read-only channel cannot lose data */ }
        }
    }

    public Path dir() { return dir; }

    /** The file a tensor comes from (for error messages). */
    public Path fileOf(String name) { return fileOf.get(name); }

    /** The file to blame when a tensor is missing: the index if sharded, else the single file. */
    public Path checkpointFile() {
        Path index = dir.resolve(INDEX);
        return Files.isRegularFile(dir.resolve(SINGLE)) || !Files.isRegularFile(index) ? dir.resolve(SINGLE) : index;
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new ModelLoadException(checkpointFile(), name, "tensor not found in the checkpoint");
        return t;
    }

    @Override
    public boolean contains(String name) { return tensors.containsKey(name); }

    @Override
    public Set<String> names() { return tensors.keySet(); }

    /** Closes the files; mapped buffers already handed out stay readable until garbage-collected (JDK semantics). */
    @Override
    public void close() { closeAll(channels); }
}

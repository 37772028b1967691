package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.model.quant.E4m3;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes safetensors files for tests: an 8-byte little-endian header length, the JSON header, then the data. */
public final class SafeTensorsWriter {
    private record Entry(String dtype, long[] shape, byte[] data) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public SafeTensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(toBf16(v));
                case F16 -> b.putShort(toF16(v));
                case F8_E4M3 -> b.put(E4m3.encode(v));
            }
        }
        return addRaw(name, dtype.name(), shape, b.array());
    }

    /** Any dtype string and bytes, e.g. to write an unsupported F8_E5M2 tensor. */
    public SafeTensorsWriter addRaw(String name, String dtype, long[] shape, byte[] data) {
        entries.put(name, new Entry(dtype, shape, data));
        return this;
    }

    /** Round-to-nearest-even, like torch's float -> bfloat16 conversion. */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** IEEE half precision, round-to-nearest-even (Java 17 has no Float.floatToFloat16). */
    public static short toF16(float v) {
        int bits = Float.floatToRawIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
        int e = exp - 127 + 15;
        if (e >= 0x1F) return (short) (sign | 0x7C00);
        if (e <= 0) {
            if (e < -10) return (short) sign;
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) == 1)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) half++;
        return (short) (sign | half);
    }

    public static float fromF16(short h) {
        int s = (h & 0x8000) << 16, e = (h >>> 10) & 0x1F, m = h & 0x3FF;
        if (e == 0) return (s != 0 ? -1 : 1) * m * 0x1p-24f;
        if (e == 0x1F) return Float.intBitsToFloat(s | 0x7F800000 | (m << 13));
        return Float.intBitsToFloat(s | ((e - 15 + 127) << 23) | (m << 13));
    }

    public static float fromBf16(short s) { return Float.intBitsToFloat((s & 0xFFFF) << 16); }

    public void write(Path file) throws IOException {
        ObjectNode header = JsonFiles.MAPPER.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        List<byte[]> blobs = new ArrayList<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) shape.add(d);
            var offs = t.putArray("data_offsets");
            offs.add(offset);
            offset += e.getValue().data().length;
            offs.add(offset);
            blobs.add(e.getValue().data());
        }
        byte[] json = JsonFiles.MAPPER.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8-byte alignment
        byte[] h = new byte[padded];
        java.util.Arrays.fill(h, (byte) ' ');
        System.arraycopy(json, 0, h, 0, json.length);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(h);
            for (byte[] b : blobs) out.write(b);
        }
    }
}

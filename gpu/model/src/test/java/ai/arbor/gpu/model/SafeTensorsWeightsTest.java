package ai.arbor.gpu.model;

import ai.arbor.gpu.files.ModelLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsWeightsTest {
    @TempDir
    Path dir;

    private static final float[] VALUES = {1.0f, -2.5f, 0.1f, 3.14159f, -0.0078125f, 65504f};

    @Test
    void readsAllDtypesMemoryMapped() throws IOException {
        new SafeTensorsWriter()
                .add("a.f32", DType.F32, new long[]{2, 3}, VALUES)
                .add("b.bf16", DType.BF16, new long[]{6}, VALUES)
                .add("c.f16", DType.F16, new long[]{3, 2}, VALUES)
                .write(dir.resolve("model.safetensors"));
        try (SafeTensorsWeights w = SafeTensorsWeights.open(dir)) {
            assertEquals(java.util.Set.of("a.f32", "b.bf16", "c.f16"), w.names());
            Tensor a = w.tensor("a.f32");
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new long[]{2, 3}, a.shape());
            assertEquals(2, a.rows());
            assertEquals(3, a.cols());
            assertTrue(a.data().isReadOnly());
            assertTrue(a.data().isDirect(), "mapped, not copied to the heap");
            for (int i = 0; i < VALUES.length; i++) assertEquals(VALUES[i], a.data().getFloat(i * 4));

            ByteBuffer b = w.tensor("b.bf16").data();
            assertEquals(12, b.capacity());
            for (int i = 0; i < VALUES.length; i++) {
                float got = SafeTensorsWriter.fromBf16(b.getShort(i * 2));
                assertEquals(VALUES[i], got, Math.abs(VALUES[i]) / 128, "bf16 keeps 8 bits of mantissa");
            }
            assertEquals(-2.5f, SafeTensorsWriter.fromBf16(b.getShort(2)), "exactly representable");

            ByteBuffer c = w.tensor("c.f16").data();
            for (int i = 0; i < VALUES.length; i++)
                assertEquals(VALUES[i], SafeTensorsWriter.fromF16(c.getShort(i * 2)), Math.abs(VALUES[i]) / 1024);
            assertEquals(65504f, SafeTensorsWriter.fromF16(c.getShort(10)));
            assertFalse(w.contains("nope"));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> w.tensor("nope"));
            assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("nope"));
        }
    }

    @Test
    void shardedIndex() throws IOException {
        new SafeTensorsWriter().add("x", DType.F32, new long[]{2}, new float[]{1, 2})
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafeTensorsWriter().add("y", DType.F32, new long[]{1}, new float[]{7})
                .add("z", DType.BF16, new long[]{1}, new float[]{0.5f})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 14}, "weight_map": {"x": "model-00001-of-00002.safetensors",
                 "y": "model-00002-of-00002.safetensors", "z": "model-00002-of-00002.safetensors"}}""");
        try (SafeTensorsWeights w = SafeTensorsWeights.open(dir)) {
            assertEquals(3, w.names().size());
            assertEquals(2f, w.tensor("x").data().getFloat(4));
            assertEquals(7f, w.tensor("y").data().getFloat(0));
            assertEquals(0.5f, SafeTensorsWriter.fromBf16(w.tensor("z").data().getShort(0)));
            assertEquals(dir.resolve("model-00002-of-00002.safetensors"), w.fileOf("z"));
        }
    }

    @Test
    void unsupportedDtypeNamesFileAndTensor() throws IOException {
        new SafeTensorsWriter().addRaw("model.layers.0.mlp.up_proj.weight", "F8_E5M2", new long[]{4}, new byte[4])
                .write(dir.resolve("model.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertEquals("model.layers.0.mlp.up_proj.weight.dtype", e.field());
        assertTrue(e.getMessage().contains("F8_E5M2") && e.getMessage().contains("F8_E4M3"), e.getMessage());

        new SafeTensorsWriter().addRaw("q", "I8", new long[]{4}, new byte[4]).write(dir.resolve("model.safetensors"));
        e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertEquals("q.dtype", e.field());
    }

    @Test
    void corruptFiles() throws IOException {
        new SafeTensorsWriter().addRaw("t", "F32", new long[]{4}, new byte[12]).write(dir.resolve("model.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertEquals("t.data_offsets", e.field());

        Files.write(dir.resolve("model.safetensors"), new byte[]{1, 2, 3});
        e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("header"));

        Files.write(dir.resolve("model.safetensors"), new byte[]{(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, '{'});
        e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void missingFiles() throws IOException {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("not found"));

        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"weight_map": {"x": "model-00001-of-00002.safetensors"}}""");
        e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors") && e.getMessage().contains("'x'"),
                e.getMessage());

        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": ");
        e = assertThrows(ModelLoadException.class, () -> SafeTensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors.index.json") && e.getMessage().contains("malformed"));
    }

    @Test
    void duplicateTensorAcrossShards() throws IOException {
        new SafeTensorsWriter().add("x", DType.F32, new long[]{1}, new float[]{1}).write(dir.resolve("a.safetensors"));
        new SafeTensorsWriter().add("x", DType.F32, new long[]{1}, new float[]{2}).write(dir.resolve("b.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> SafeTensorsWeights.openFiles(dir, List.of(dir.resolve("a.safetensors"), dir.resolve("b.safetensors"))));
        assertTrue(e.getMessage().contains("a.safetensors"));
    }
}

package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.model.quant.E4m3;
import ai.arbor.gpu.model.quant.Fp8Checkpoint;
import ai.arbor.gpu.model.quant.Fp8Weight;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** FP8 checkpoints as vLLM reads them: F8_E4M3 linear weights with per-tensor or per-channel weight_scale. */
class Fp8CheckpointTest {
    private static final String Q = "model.layers.0.self_attn.q_proj.weight";
    private static final String Q_SCALE = "model.layers.0.self_attn.q_proj.weight_scale";

    @TempDir
    Path dir;

    /** A 3 x 4 matrix of codes: row r, column c holds E4M3 of (r + 1) * (c - 1.5). */
    private static byte[] codes() {
        byte[] b = new byte[12];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 4; c++) b[r * 4 + c] = E4m3.encode((r + 1) * (c - 1.5f));
        return b;
    }

    private SafeTensorsWeights write(SafeTensorsWriter w) throws IOException {
        w.write(dir.resolve("model.safetensors"));
        return SafeTensorsWeights.open(dir);
    }

    @Test
    void codesLoadAsTheyAreWithPerTensorOrPerChannelScales() throws IOException {
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes())
                .add(Q_SCALE, DType.F32, new long[]{}, new float[]{0.25f}))) {
            assertTrue(CheckpointQuantization.fp8Weights(w));
            Fp8Weight f = Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4);
            assertArrayEquals(codes(), f.codes());
            assertArrayEquals(new float[]{0.25f, 0.25f, 0.25f}, f.scales(), "one scale for the tensor, per row");
            float[] row = new float[4];
            f.dequantizeRow(2, row, 0);
            assertArrayEquals(new float[]{3 * -1.5f * 0.25f, 3 * -0.5f * 0.25f, 3 * 0.5f * 0.25f, 3 * 1.5f * 0.25f}, row);
        }
        // compressed-tensors' channel strategy: [out, 1], here in bf16
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes())
                .add(Q_SCALE, DType.BF16, new long[]{3, 1}, new float[]{0.5f, 1f, 2f}))) {
            assertArrayEquals(new float[]{0.5f, 1f, 2f}, Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4).scales());
        }
    }

    @Test
    void aCheckpointThatCannotBeReadSaysWhichTensorAndWhy() throws IOException {
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes()))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4));
            assertTrue(e.getMessage().contains(Q_SCALE + " is missing"), e.getMessage());
        }
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes())
                .add("model.layers.0.self_attn.q_proj.weight_scale_inv", DType.F32, new long[]{1, 1}, new float[]{1}))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4));
            assertTrue(e.getMessage().contains("block-wise"), e.getMessage());
        }
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes())
                .add(Q_SCALE, DType.F32, new long[]{2}, new float[]{1, 1}))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4));
            assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[3, 1]"), e.getMessage());
        }
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes())
                .add(Q_SCALE, DType.F32, new long[]{3}, new float[]{1, 0, 1}))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4));
            assertTrue(e.getMessage().contains("positive and finite") && e.getMessage().contains(" at 1"), e.getMessage());
        }
        byte[] nan = codes();
        nan[6] = (byte) 0xFF; // row 1, column 2: E4M3's negative NaN
        try (SafeTensorsWeights w = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, nan)
                .add(Q_SCALE, DType.F32, new long[]{}, new float[]{1}))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Checkpoint.weight(w, w.tensor(Q), 3, 4));
            assertTrue(e.getMessage().contains("NaN code at row 1 column 2"), e.getMessage());
        }
    }

    @Test
    void configJsonMustDeclareAnFp8MethodForFp8WeightsAndNothingElseIsServed() throws IOException {
        Path config = dir.resolve("config.json");
        try (SafeTensorsWeights fp8 = write(new SafeTensorsWriter().addRaw(Q, "F8_E4M3", new long[]{3, 4}, codes())
                .add(Q_SCALE, DType.F32, new long[]{}, new float[]{1}))) {
            CheckpointQuantization.validate(config, json("{\"quantization_config\": {\"quant_method\": \"fp8\", "
                    + "\"activation_scheme\": \"dynamic\"}}"), fp8);
            CheckpointQuantization.validate(config, json("{\"quantization_config\": {\"quant_method\": "
                    + "\"compressed-tensors\", \"format\": \"float-quantized\", \"config_groups\": {\"group_0\": "
                    + "{\"weights\": {\"num_bits\": 8, \"type\": \"float\", \"strategy\": \"channel\"}, "
                    + "\"targets\": [\"Linear\"]}}, \"ignore\": [\"lm_head\"]}}"), fp8);
            assertEquals("quantization_config", assertThrows(ModelLoadException.class,
                    () -> CheckpointQuantization.validate(config, json("{}"), fp8)).field());
            assertEquals("quantization_config.weight_block_size", assertThrows(ModelLoadException.class,
                    () -> CheckpointQuantization.validate(config, json("{\"quantization_config\": {\"quant_method\": "
                            + "\"fp8\", \"weight_block_size\": [128, 128]}}"), fp8)).field());
            ModelLoadException int4 = assertThrows(ModelLoadException.class,
                    () -> CheckpointQuantization.validate(config, json("{\"quantization_config\": {\"quant_method\": "
                            + "\"compressed-tensors\", \"config_groups\": {\"group_0\": {\"weights\": {\"num_bits\": 4, "
                            + "\"type\": \"int\", \"strategy\": \"group\"}}}}}"), fp8));
            assertTrue(int4.getMessage().contains("type int, 4 bits, strategy group"), int4.getMessage());
            ModelLoadException gptq = assertThrows(ModelLoadException.class,
                    () -> CheckpointQuantization.validate(config, json("{\"quantization_config\": {\"quant_method\": "
                            + "\"gptq\", \"bits\": 4}}"), fp8));
            assertTrue(gptq.getMessage().contains("'gptq' checkpoints are not supported"), gptq.getMessage());
        }
        try (SafeTensorsWeights bf16 = write(new SafeTensorsWriter().add(Q, DType.BF16, new long[]{3, 4}, new float[12]))) {
            assertFalse(CheckpointQuantization.fp8Weights(bf16));
            CheckpointQuantization.validate(config, json("{}"), bf16);
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> CheckpointQuantization.validate(config, json("{\"quantization_config\": {\"quant_method\": "
                            + "\"fp8\"}}"), bf16));
            assertTrue(e.getMessage().contains("is not F8_E4M3"), e.getMessage());
        }
    }

    private static JsonNode json(String s) throws IOException {
        return JsonFiles.MAPPER.readTree(s);
    }
}

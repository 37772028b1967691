package ai.arbor.gpu.model;

import ai.arbor.gpu.files.ModelLoadException;
import java.util.Set;

/** Named weight tensors of a checkpoint, by their Hugging Face names (e.g. {@code model.layers.0.mlp.up_proj.weight}). */
public interface Weights extends AutoCloseable {

    /** The tensor, or a {@link ModelLoadException} naming the checkpoint file and the missing tensor. */
    Tensor tensor(String name);

    boolean contains(String name);

    Set<String> names();

    @Override
    void close();
}

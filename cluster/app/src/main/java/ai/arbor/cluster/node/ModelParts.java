package ai.arbor.cluster.node;

import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.cluster.serve.SingleNode;
import java.util.List;

/**
 * What a node loads from the model directory, per role: a frontend needs the tokenizer, chat template, context length
 * and sampling defaults; a worker needs its engines. The same loaders {@code arbor serve} uses.
 */
public interface ModelParts {
    SingleNode.ModelSpec frontendSpec(ArborSettings settings);

    /** A worker's engines: one per device of {@code arbor.device} (a node runs one worker per GPU it lists). */
    List<InferenceEngine> engines(ArborSettings settings);
}

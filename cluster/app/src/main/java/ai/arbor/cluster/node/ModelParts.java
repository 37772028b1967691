package ai.arbor.cluster.node;

import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.cluster.serve.SingleNode;

/**
 * What a node loads from the model directory, per role: a frontend needs the tokenizer, chat template, context length
 * and sampling defaults; a worker needs an engine. The same loaders {@code arbor serve} uses.
 */
public interface ModelParts {
    SingleNode.ModelSpec frontendSpec(ArborSettings settings);

    InferenceEngine engine(ArborSettings settings);
}

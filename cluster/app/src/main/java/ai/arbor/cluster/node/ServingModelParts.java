package ai.arbor.cluster.node;

import ai.arbor.cluster.serve.LoadedModel;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.model.EmbeddingDimensions;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.http.SamplingDefaults;
import ai.arbor.cluster.serve.SingleNode;
import java.io.PrintStream;
import java.util.List;

/**
 * The model loaders of {@code arbor serve}, split by role: a worker loads the whole model and an engine per device; a frontend-only
 * node loads just the tokenizer, chat template and generation defaults (no weights in memory, no KV cache).
 */
public final class ServingModelParts implements ModelParts {
    private final PrintStream progress;
    private LoadedModel loaded;

    public ServingModelParts(PrintStream progress) {
        this.progress = progress;
    }

    @Override
    public synchronized SingleNode.ModelSpec frontendSpec(ArborSettings s) {
        if (loaded != null || s.isSynthetic()) return load(s).spec();
        HfModel model = HfModel.load(s.model());
        int maxLen = s.engine().maxModelLen() > 0 ? s.engine().maxModelLen() : model.config().maxPositionEmbeddings();
        return new SingleNode.ModelSpec(LoadedModel.tokenizer(s, model), maxLen, SamplingDefaults.of(model.generation()),
                EmbeddingDimensions.of(model));
    }

    @Override
    public synchronized List<InferenceEngine> engines(ArborSettings s) {
        return load(s).engines();
    }

    private LoadedModel load(ArborSettings s) {
        // a node runs one worker per listed device; several on one device (arbor.engine.workers) are for arbor serve
        if (loaded == null) loaded = LoadedModel.load(s, s.devices().size(), progress);
        return loaded;
    }
}

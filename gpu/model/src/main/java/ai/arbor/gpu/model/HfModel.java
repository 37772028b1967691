package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import ai.arbor.gpu.tokenizer.ChatTemplate;
import ai.arbor.gpu.tokenizer.ChatTemplateException;
import ai.arbor.gpu.tokenizer.HfTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A Hugging Face model directory, loaded and validated: config, memory-mapped weights, generation defaults,
 * tokenizer and chat template. Everything wrong with the directory surfaces here as a {@link ModelLoadException}.
 */
public final class HfModel implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String TEMPLATE_FILE = "chat_template.jinja";

    private final Path dir;
    private final ModelConfig config;
    private final SafeTensorsWeights weights;
    private final GenerationConfig generation;
    private final HfTokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final int[] eosTokenIds;

    private HfModel(Path dir, ModelConfig config, SafeTensorsWeights weights, GenerationConfig generation,
                    HfTokenizer tokenizer, ChatTemplate chatTemplate, int[] eosTokenIds) {
        this.dir = dir;
        this.config = config;
        this.weights = weights;
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.eosTokenIds = eosTokenIds;
    }

    public static HfModel load(Path dir) {
        if (!Files.isDirectory(dir)) throw new ModelLoadException(dir, null, "model directory not found");
        Path configFile = dir.resolve(CONFIG);
        var configJson = JsonFiles.read(configFile);
        ModelConfig config = ConfigParser.parse(configFile, configJson);
        GenerationConfig generation = GenerationConfig.load(dir);
        HfTokenizer tokenizer = HfTokenizer.load(dir);
        try {
            ChatTemplate template = loadTemplate(dir, tokenizer);
            Set<Integer> eos = new LinkedHashSet<>();
            for (int id : GenerationConfig.tokenIds(new JsonFiles.Fields(configFile, configJson), "eos_token_id")) eos.add(id);
            for (int id : generation.eosTokenIds()) eos.add(id);
            tokenizer.eosTokenId().ifPresent(eos::add);
            SafeTensorsWeights weights = SafeTensorsWeights.open(dir);
            try {
                WeightLayout.validate(config, weights);
                CheckpointQuantization.validate(configFile, configJson, weights);
            } catch (RuntimeException e) {
                weights.close();
                throw e;
            }
            return new HfModel(dir, config, weights, generation, tokenizer, template,
                    eos.stream().mapToInt(Integer::intValue).toArray());
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** {@code chat_template.jinja} wins over {@code tokenizer_config.json}'s field, as in transformers. */
    private static ChatTemplate loadTemplate(Path dir, HfTokenizer tokenizer) {
        Path file = dir.resolve(TEMPLATE_FILE);
        String source;
        Path from = file;
        String field = null;
        if (Files.isRegularFile(file)) {
            try {
                source = Files.readString(file);
            } catch (java.io.IOException e) {
                throw new ModelLoadException(file, null, "cannot read: " + e.getMessage(), e);
            }
        } else {
            source = tokenizer.config().chatTemplate();
            from = tokenizer.config().file();
            field = "chat_template";
        }
        if (source == null) return null;
        try {
            return new ChatTemplate(source, tokenizer.bosToken(), tokenizer.eosToken());
        } catch (ChatTemplateException e) {
            throw new ModelLoadException(from, field, "invalid chat template: " + e.getMessage(), e);
        }
    }

    public Path dir() { return dir; }

    public ModelConfig config() { return config; }

    public Weights weights() { return weights; }

    public GenerationConfig generation() { return generation; }

    public HfTokenizer tokenizer() { return tokenizer; }

    /** The model's chat template, or null when the directory has none (a base model). */
    public ChatTemplate chatTemplate() { return chatTemplate; }

    /** Union of config.json's, generation_config.json's and the tokenizer's EOS ids. */
    public int[] eosTokenIds() { return eosTokenIds.clone(); }

    @Override
    public void close() {
        weights.close();
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "HfModel[" + dir + ", " + config.architecture().hfName() + ", eos=" + Arrays.toString(eosTokenIds) + "]";
    }
}

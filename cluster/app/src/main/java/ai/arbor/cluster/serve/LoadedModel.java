package ai.arbor.cluster.serve;

import ai.arbor.actors.frontend.HfModelTokenizer;
import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.config.ArborSettings;
import ai.arbor.config.BatchDefaults;
import ai.arbor.config.Devices;
import ai.arbor.config.EngineSettings;
import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.backend.cuda.CudaBackend;
import ai.arbor.gpu.backend.cuda.StepLimits;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.model.CheckpointQuantization;
import ai.arbor.gpu.model.EmbeddingDimensions;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.model.quant.Quantization;
import ai.arbor.http.SamplingDefaults;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A model made ready to serve on the configured device: its engines (each of which a worker will own; several share
 * the mapped weights) and what the frontend needs (tokenizer, context length, sampling defaults). Reports each loading
 * stage on {@code progress}, since a large model takes a while.
 */
public final class LoadedModel implements AutoCloseable {
    private final HfModel model;
    private final List<InferenceEngine> engines;
    private final SingleNode.ModelSpec spec;

    private LoadedModel(HfModel model, List<InferenceEngine> engines, SingleNode.ModelSpec spec) {
        this.model = model;
        this.engines = List.copyOf(engines);
        this.spec = spec;
    }

    /** The first engine (the only one unless {@code arbor.engine.workers} or a list of devices asked for more). */
    public InferenceEngine engine() { return engines.get(0); }

    public List<InferenceEngine> engines() { return engines; }

    public SingleNode.ModelSpec spec() { return spec; }

    /** {@link #load(ArborSettings, int, PrintStream)} with {@code arbor.engine.workers} engines. */
    public static LoadedModel load(ArborSettings s, PrintStream progress) {
        return load(s, s.engine().workers(), progress);
    }

    /**
     * Loads the model once and builds {@code engines} engines on it: for CUDA one per listed device (each with its own
     * copy of the weights, KV cache and step graphs), for cpu or synthetic {@code engines} on the one device.
     */
    public static LoadedModel load(ArborSettings s, int engines, PrintStream progress) {
        long t0 = System.nanoTime();
        Path dir = s.model();
        EngineSettings e = s.engine();
        Devices devices = s.devices();
        if (devices.isSynthetic()) return synthetic(s, engines, progress);
        boolean cuda = devices.isCuda();
        if (cuda && engines != devices.size()) {
            throw new IllegalArgumentException("--workers " + engines + " with --device " + devices + ": one CUDA "
                    + "device holds one engine, so a list of " + devices.size() + " runs " + devices.size());
        }
        if (!cuda && !devices.isCpu()) {
            throw new IllegalArgumentException("device '" + s.device() + "' has no backend in this build; use cpu, cuda:N or synthetic");
        }
        if (cuda && weights(e) != Quantization.NONE) {
            throw new IllegalArgumentException("--quantization " + e.quantization().cliName() + " is not supported by "
                    + "the cuda backend yet; use --quantization none, or --device cpu");
        }
        // Before mapping gigabytes of weights: a missing GPU should fail at once, in one line.
        if (cuda) checkPresent(devices, CudaBackend.isAvailable(), CudaBackend.deviceCount());
        progress.printf("arbor: loading %s from %s (%s of weights)…%n", s.servedModelName(), dir, size(dir));
        HfModel model = HfModel.load(dir);
        try {
            progress.printf("arbor: %s %s, %d layers, vocabulary %d; weights mapped in %.1f s%n",
                    model.config().architecture(), s.servedModelName(), model.config().numLayers(),
                    model.config().vocabSize(), seconds(t0));
            progress.println(batching(s));
            if (cuda && CheckpointQuantization.fp8Weights(model.weights())) {
                throw new IllegalArgumentException(dir + ": the checkpoint's weights are FP8, which the cuda backend "
                        + "does not serve yet; use --device cpu");
            }
            List<InferenceEngine> built = new ArrayList<>(engines);
            LLMEngine engine = null;
            for (int i = 0; i < engines; i++) {
                ComputeBackend backend = cuda ? cudaBackend(s, devices.get(i), model, progress)
                        : cpuBackend(e, model, progress);
                engine = new LLMEngine(model, backend, engineConfig(e));
                built.add(engine);
            }
            SingleNode.ModelSpec spec = new SingleNode.ModelSpec(tokenizer(s, model), engine.maxModelLen(),
                    SamplingDefaults.of(model.generation()), EmbeddingDimensions.of(model));
            progress.printf("arbor: %d engine(s) ready in %.1f s: %d KV blocks of %d tokens each, max model length %d%n",
                    engines, seconds(t0), engine.numKvBlocks(), engine.blockSize(), engine.maxModelLen());
            return new LoadedModel(model, built, spec);
        } catch (RuntimeException ex) {
            model.close();
            throw ex;
        }
    }

    private static ComputeBackend cpuBackend(EngineSettings e, HfModel model, PrintStream progress) {
        int threads = e.effectiveThreads();
        progress.printf("arbor: %sallocating the KV cache (%s) on %d CPU thread(s)…%n",
                CheckpointQuantization.fp8Weights(model.weights()) ? "FP8 weights as the checkpoint has them, "
                        : weights(e) == Quantization.NONE ? ""
                        : "quantizing the weights to " + e.quantization().cliName() + ", ",
                bytes(e.kvCacheMemoryBytes()), threads);
        return new CpuBackend(model.config(), model.weights(), threads, e.kvCacheMemoryBytes(),
                weights(e));
    }

    /** The engine's name for the setting's quantization (the two enums share their constants' names). */
    private static Quantization weights(EngineSettings e) { return Quantization.valueOf(e.quantization().name()); }

    /** The batching limits in effect (each engine's), and the device's defaults they came from or replace. */
    public static String batching(ArborSettings s) {
        EngineSettings e = s.engine();
        BatchDefaults d = BatchDefaults.forDevice(s.device());
        return String.format(Locale.ROOT, "arbor: batching on %s: max-num-seqs %d, max-num-batched-tokens %d (the "
                + "defaults for %s: %d, %d)", s.device(), e.maxNumSeqs(), e.maxNumBatchedTokens(),
                s.isCuda() ? "cuda" : s.devices().get(0), d.maxNumSeqs(), d.maxNumBatchedTokens());
    }

    /**
     * Fails, naming the device, when a listed GPU is not there: {@code available} says whether the driver and the
     * kernels are, {@code present} how many devices the driver sees.
     */
    static void checkPresent(Devices devices, boolean available, int present) {
        if (!available) {
            throw new IllegalArgumentException("--device " + devices + ": no CUDA device found (no NVIDIA driver or "
                    + "GPU on this machine, or the kernels were not built); use --device cpu");
        }
        for (int index : devices.cudaIndices()) {
            if (index >= present) {
                throw new IllegalArgumentException("--device " + devices + ": cuda:" + index + " does not exist, this "
                        + "machine has " + present + " CUDA device(s) (cuda:0 to cuda:" + (present - 1) + ")");
            }
        }
    }

    private static ComputeBackend cudaBackend(ArborSettings s, String device, HfModel model, PrintStream progress) {
        EngineSettings e = s.engine();
        double util = e.gpuMemoryUtilization();
        progress.printf("arbor: copying the weights to %s (KV cache fills up to %.0f%% of its memory)…%n", device,
                util * 100);
        // the activations of the largest step these limits allow are set aside before the KV cache takes the rest
        return new CudaBackend(model.config(), model.weights(), Devices.cudaIndex(device), util,
                new StepLimits(e.maxNumBatchedTokens(), e.maxNumSeqs()));
    }

    /** The instant engine: the model's tokenizer when the directory has one, else one token per byte. */
    private static LoadedModel synthetic(ArborSettings s, int engines, PrintStream progress) {
        EngineSettings e = s.engine();
        HfModel model = null;
        ModelTokenizer tok;
        int maxLen = e.maxModelLen() > 0 ? e.maxModelLen() : 4096;
        if (Files.isRegularFile(s.model().resolve("tokenizer.json"))) {
            model = HfModel.load(s.model());
            tok = tokenizer(s, model);
            if (e.maxModelLen() == 0) maxLen = model.config().maxPositionEmbeddings();
        } else {
            tok = new ByteTokenizer();
        }
        progress.printf("arbor: synthetic engine (instant tokens, %s tokenizer), max model length %d%n",
                model == null ? "byte" : "the model's", maxLen);
        List<InferenceEngine> built = new ArrayList<>(engines);
        for (int i = 0; i < engines; i++) built.add(new SyntheticEngine(maxLen, e.blockSize(), tok.eosTokenIds()));
        return new LoadedModel(model, built, new SingleNode.ModelSpec(tok, maxLen, SamplingDefaults.none()));
    }

    /** The model's tokenizer, with the chat template that {@code --chat-template} names if one does. */
    public static HfModelTokenizer tokenizer(ArborSettings s, HfModel model) {
        return new HfModelTokenizer(model, s.chat().chatTemplate()
                .map(file -> HfModelTokenizer.templateFile(model, file)).orElse(null));
    }

    public static EngineConfig engineConfig(EngineSettings e) {
        return new EngineConfig(e.blockSize(), e.numKvBlocks(), e.maxNumSeqs(), e.maxNumBatchedTokens(), e.maxModelLen(),
                e.enablePrefixCaching(), e.kvCacheMemoryBytes(), e.kvHostMemoryBytes());
    }

    private static double seconds(long t0) { return (System.nanoTime() - t0) / 1e9; }

    private static String size(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return bytes(files.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException ex) {
                    return 0;
                }
            }).sum());
        } catch (IOException ex) {
            return "?";
        }
    }

    static String bytes(long b) {
        if (b >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    }

    /** The engines belong to their workers, which close them; this releases the model's mapped weights and tokenizer. */
    @Override
    public void close() {
        if (model != null) model.close();
    }
}

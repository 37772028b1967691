package ai.arbor.gpu.tools;

import ai.arbor.gpu.backend.cuda.CudaBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code gpu-tools benchmark}: {@link CudaBenchmark}, decode and prefill throughput of the CUDA backend. */
@Command(name = "benchmark", mixinStandardHelpOptions = true,
        description = {"Decode and prefill throughput of the CUDA backend with random BF16 weights in Qwen2.5-1.5B's "
                + "shape, next to the device's copy bandwidth.",
                "-Darbor.bench.sweep=1 adds the batch-64 hint sweep (HintSweep)."})
final class BenchmarkCommand implements Callable<Integer> {

    @Parameters(index = "0", defaultValue = "64", description = "decode steps (default ${DEFAULT-VALUE})")
    int steps;

    @Parameters(index = "1", defaultValue = "1,8,32,64", description = "batch sizes, comma-separated (default ${DEFAULT-VALUE})")
    String batches;

    @Parameters(index = "2", defaultValue = "2048", description = "prefill tokens (default ${DEFAULT-VALUE})")
    int prefill;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!batches.matches("[1-9][0-9]*(,[1-9][0-9]*)*")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "batch sizes must be positive integers separated by commas, got '" + batches + "'");
        }
        CudaBenchmark.main(new String[] {String.valueOf(steps), batches, String.valueOf(prefill)});
        return 0;
    }
}

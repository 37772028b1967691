package ai.arbor.gpu.tools;

import ai.arbor.gpu.bench.DecodeBench;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code gpu-tools}: the GPU side's development tools behind one command line, e.g. on a GPU machine
 * {@code tools/device_run.sh ai.arbor.gpu.tools.GpuTools self-check models/tiny-qwen2 <reference json>}. None of them
 * is part of the application: this module is in no production jar. The tools' own classes stay runnable by name
 * ({@code CudaSelfCheck}, {@code CudaBenchmark}, {@code DecodeBench}, {@code MemoryBandwidth}).
 */
@Command(name = "gpu-tools", mixinStandardHelpOptions = true, version = "gpu-tools 0.1.0",
        description = "Arbor's GPU development tools: self-checks and benchmarks.",
        subcommands = {
                SelfCheckCommand.class,
                BenchmarkCommand.class,
                DecodeBench.class,
                MemoryBandwidthCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class GpuTools implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'gpu-tools help'");
    }

    /** The command line, for {@link #main} and tests. */
    public static CommandLine commandLine() {
        return new CommandLine(new GpuTools());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}

package ai.arbor.cluster.cli;

import ai.arbor.cluster.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code arbor}: the command line (run through {@code bin/arbor}). Each subcommand is one class; add new ones to the
 * {@code subcommands} list.
 */
@Command(name = "arbor", mixinStandardHelpOptions = true, version = "arbor 0.1.0",
        description = "Distributed LLM serving on the JVM.",
        subcommands = {
                ServeCommand.class,
                NodeCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class ArborCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'arbor serve'");
    }

    public static void main(String[] args) {
        int code = new CommandLine(new ArborCli()).setCaseInsensitiveEnumValuesAllowed(true)
                .setParameterExceptionHandler(BenchCommand.oneLineErrors()).execute(args);
        // serve returns only after shutdown: exit explicitly so no stray non-daemon thread keeps the JVM up
        System.exit(code);
    }
}

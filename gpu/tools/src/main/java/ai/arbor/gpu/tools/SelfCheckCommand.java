package ai.arbor.gpu.tools;

import ai.arbor.gpu.backend.cuda.CudaSelfCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code gpu-tools self-check}: {@link CudaSelfCheck}, the CUDA backend against transformers' reference logits. */
@Command(name = "self-check", mixinStandardHelpOptions = true,
        description = {"The CUDA backend against the transformers references of each model (teacher-forced logits, "
                + "greedy and batched generations, device sampling), with a bf16 and an fp32 KV cache.",
                "-Darbor.selfcheck.bf16Only=true skips the fp32 pass."})
final class SelfCheckCommand implements Callable<Integer> {

    @Parameters(arity = "2..*", paramLabel = "<model dir> <reference json>",
            description = "pairs, e.g. models/tiny-qwen2 gpu/model/src/test/resources/reference/tiny-qwen2.json")
    List<Path> pairs = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (pairs.size() % 2 != 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "expected pairs of <model dir> <reference json>, got " + pairs.size() + " paths");
        }
        CudaSelfCheck.main(pairs.stream().map(Path::toString).toArray(String[]::new));
        return 0;
    }
}

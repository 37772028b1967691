package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Every kernel source becomes a module the device loads, and the kernels the Java side names by pattern exist. */
class KernelModulesTest {
    private static final Path CUDA = Path.of("src/main/cuda");

    @Test
    void everyCudaSourceIsLoadedAsAModule() throws IOException {
        Set<String> sources;
        try (Stream<Path> files = Files.list(CUDA)) {
            sources = files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".cu"))
                    .map(f -> f.substring(0, f.length() - 3)).collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> loaded = new TreeSet<>(Arrays.asList(CudaDevice.MODULES));
        loaded.add(CudaDevice.HOPPER_MODULE);
        loaded.add(CudaDevice.PREFILL_MODULE);
        assertEquals(sources, loaded);
    }

    @Test
    void theTiledPrefillAttentionHasAKernelForEveryHeadSizeForwardPassSendsIt() throws IOException {
        String cu = Files.readString(CUDA.resolve("attention_prefill.cu"));
        Set<Integer> sizes = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^ATTENTION_PREFILL\\((\\d+)\\)").matcher(cu);
        while (m.find()) sizes.add(Integer.parseInt(m.group(1)));
        assertEquals(Set.of(32, 64, 128), sizes);
        // the grid and shared memory the kernel's comment states: 64 / g tokens a block, 768 * HD bytes
        assertTrue(Files.readString(Path.of("src/main/java/ai/arbor/gpu/backend/cuda/ForwardPass.java"))
                .contains("\"attention_prefill\" + headDim, (n + 64 / g - 1) / (64 / g), kvHeads, 1, 128, 768 * headDim"));
    }

    /**
     * With {@link CudaTuning#programmaticLaunch} a captured kernel may be launched before the one ahead of it has
     * finished, so each must wait for it (pdl.cuh) before it touches memory: pdl_enter() first, in every kernel.
     */
    @Test
    void everyKernelWaitsForTheOneBeforeItFirst() throws IOException {
        int kernels = 0;
        try (Stream<Path> files = Files.list(CUDA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).toList()) {
                String src = Files.readString(f);
                for (int at = src.indexOf("__global__"); at >= 0; at = src.indexOf("__global__", at + 1)) {
                    int body = src.indexOf('{', at);
                    String first = src.substring(body + 1).replaceAll("^[\\\\\\s]+", "");
                    String name = src.substring(at, Math.min(src.length(), at + 120)).split("\\(")[0];
                    assertTrue(first.startsWith("pdl_enter();"), f.getFileName() + ": " + name + " starts with "
                            + first.substring(0, Math.min(40, first.length())));
                    kernels++;
                }
            }
        }
        assertTrue(kernels >= 30, "found " + kernels + " kernels");
    }
}

package ai.arbor.it.arch;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * No cycle between any two packages of Arbor's main sources, over every module (this module's test classpath holds
 * them all, tools included). Read from bytecode, so a fully qualified name inside a method body counts as an edge,
 * as an import would.
 */
class PackageCyclesTest {

    static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("ai.arbor");

    @Test
    void seesEveryModule() {
        for (String pkg : new String[] {"ai.arbor.config", "ai.arbor.gpu.protocol", "ai.arbor.gpu.model",
                "ai.arbor.gpu.engine", "ai.arbor.gpu.backend.cuda", "ai.arbor.gpu.bench", "ai.arbor.gpu.tools", "ai.arbor.actors.worker",
                "ai.arbor.http", "ai.arbor.cluster.cli", "ai.arbor.cluster.bench", "ai.arbor.cluster.serve.overhead"}) {
            assertTrue(MAIN.containPackage(pkg), pkg + " is not among the imported main classes");
        }
    }

    @Test
    void noCyclesBetweenPackages() {
        slices().matching("ai.arbor.(**)").should().beFreeOfCycles().check(MAIN);
    }

    /**
     * Nor between package trees (gpu.backend with its cpu and cuda backends, gpu.engine, actors.router, ...). The CUDA
     * development tools of gpu/tools are left out: they still share package gpu.backend.cuda with the backend for its
     * package-private timing methods, and drive it through the engine; they move to gpu.tools once the backend's split
     * by concern gives them a public surface.
     */
    @Test
    void noCyclesBetweenPackageTrees() {
        slices().matching("ai.arbor.(*).(*)..").should().beFreeOfCycles()
                .ignoreDependency(IN_GPU_TOOLS, DescribedPredicate.alwaysTrue()).check(MAIN);
    }

    static final DescribedPredicate<JavaClass> IN_GPU_TOOLS = DescribedPredicate.describe("in gpu/tools",
            c -> c.getSource().map(s -> s.getUri().toString().contains("gpu/tools/")).orElse(false));

    @Test
    void toolsAreRecognised() {
        assertTrue(IN_GPU_TOOLS.test(MAIN.get("ai.arbor.gpu.backend.cuda.CudaSelfCheck")));
        assertTrue(!IN_GPU_TOOLS.test(MAIN.get("ai.arbor.gpu.backend.cuda.CudaBackend")));
    }
}

package ai.arbor.gpu.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GpuToolsTest {

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = GpuTools.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsEveryTool() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String tool : new String[] {"self-check", "benchmark", "decode-bench", "memory-bandwidth"}) {
            assertTrue(r.out().contains(tool), tool + " missing from:\n" + r.out());
        }
    }

    @Test
    void withoutACommandItSaysWhatIsMissing() {
        Run r = run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing command"), r.err());
    }

    @Test
    void selfCheckRejectsAModelWithoutItsReference() {
        Run r = run("self-check", "models/tiny-qwen2", "ref.json", "models/tiny-llama");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("pairs of <model dir> <reference json>, got 3 paths"), r.err());
    }

    @Test
    void benchmarkRejectsANonNumericBatch() {
        Run r = run("benchmark", "64", "1,x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("separated by commas, got '1,x'"), r.err());
    }

    @Test
    void memoryBandwidthMeasures() {
        Run r = run("memory-bandwidth", "--threads", "1", "--mib", "16", "--repeats", "1");
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("read bandwidth, 1 threads, 16 MiB: ([0-9.]+) GB/s").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(1)) > 0, r.out());
    }
}

package ai.arbor.cluster.bench;

import java.util.List;

/** Makes the prompts of one benchmark run, in the order they are sent. */
public interface Dataset {
    List<BenchPrompt> prompts();
}

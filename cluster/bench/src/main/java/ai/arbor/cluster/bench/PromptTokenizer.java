package ai.arbor.cluster.bench;

/** What the dataset generators need from a tokenizer: enough to build prompts of a target token length. */
public interface PromptTokenizer {
    /** Token ids of {@code text} without special tokens (what a prompt's content costs). */
    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    /** Whether {@code id} is an ordinary token worth putting in a random prompt (not a special or control token). */
    boolean isOrdinary(int id);
}

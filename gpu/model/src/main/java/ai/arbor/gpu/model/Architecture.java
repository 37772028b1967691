package ai.arbor.gpu.model;

/** Decoder-only transformer families the engine implements; they differ only in biases and q/k norms. */
public enum Architecture {
    LLAMA("LlamaForCausalLM"),
    QWEN2("Qwen2ForCausalLM"),
    QWEN3("Qwen3ForCausalLM");

    private final String hfName;

    Architecture(String hfName) { this.hfName = hfName; }

    public String hfName() { return hfName; }
}

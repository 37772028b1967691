package ai.arbor.gpu.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

/**
 * transformers' {@code {% generation %}...{% endgeneration %}} (its AssistantTracker extension): marks the assistant's
 * tokens for training masks and renders its body unchanged, which is all inference needs.
 */
final class GenerationTag implements Tag {
    private static final long serialVersionUID = 1L;

    @Override
    public String getName() { return "generation"; }

    @Override
    public String getEndTagName() { return "endgeneration"; }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        StringBuilder sb = new StringBuilder();
        for (Node child : tagNode.getChildren()) sb.append(child.render(interpreter).getValue());
        return sb.toString();
    }
}

package ai.arbor.gpu.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;

/** Prints booleans the way Python does ({@code {{ add_generation_prompt }}} is "True" in jinja2, "true" in Jinjava). */
final class PythonInterpreter extends JinjavaInterpreter {

    PythonInterpreter(Jinjava jinjava, Context context, JinjavaConfig config) {
        super(jinjava, context, config);
    }

    @Override
    public String getAsString(Object object) {
        if (object instanceof Boolean b) return b ? "True" : "False";
        return super.getAsString(object);
    }
}

package ai.arbor.gpu.engine;

class TinyQwen2EngineTest extends TinyModelEngineTests {
    @Override
    String modelName() { return "tiny-qwen2"; }
}

package ai.arbor.gpu.engine;

class TinyLlamaEngineTest extends TinyModelEngineTests {
    @Override
    String modelName() { return "tiny-llama"; }
}

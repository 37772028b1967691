package ai.arbor.actors.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class WorkerActorTest {
    private static final ActorTestKit testKit = ActorTestKit.create();

    @AfterAll
    static void stop() { testKit.shutdownTestKit(); }

    @Test
    void invalidSamplingIsRejectedAndTheWorkerKeepsServing() {
        ActorRef<WorkerActor.Command> worker =
                testKit.spawn(WorkerActor.create("w0", "m", new SyntheticEngine(4096, 16, new int[] {0})));
        TestProbe<WorkerActor.Reply> probe = testKit.createTestProbe();

        SamplingParams badTopP = new SamplingParams(1.0, 0.0, 0, 0, null, 0, 0, 1, 4, 0, false, new int[0], List.of(), null);
        worker.tell(new WorkerActor.Generate(new EngineRequest("bad", new int[] {5, 6, 7}, badTopP), probe.getRef()));
        WorkerActor.Rejected rejected = probe.expectMessageClass(WorkerActor.Rejected.class);
        assertEquals("bad", rejected.requestId());
        assertTrue(rejected.reason().contains("top_p"), rejected.reason());

        worker.tell(new WorkerActor.Generate(
                new EngineRequest("good", new int[] {5, 6, 7}, SamplingParams.greedy(3)), probe.getRef()));
        WorkerActor.Output last;
        do {
            last = probe.expectMessageClass(WorkerActor.Output.class);
        } while (!last.output().finished());
        assertEquals(3, last.output().outputTokens());
    }
}

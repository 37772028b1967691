package ai.arbor.gpu.sched;

/** Where a request is in its life inside the scheduler. */
public enum RequestStatus {
    WAITING, RUNNING, PREEMPTED, FINISHED;
}

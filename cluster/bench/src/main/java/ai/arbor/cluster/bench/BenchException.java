package ai.arbor.cluster.bench;

/** A problem the user can fix (bad argument, unreachable server, unreadable file): printed as one line, no stack trace. */
public final class BenchException extends RuntimeException {
    public BenchException(String message) { super(message); }

    public BenchException(String message, Throwable cause) { super(message, cause); }
}

package ai.arbor.http.chat;

/**
 * One part of an assistant message as its text arrives: reasoning, content, or a tool call (its name first, then its
 * arguments in fragments that concatenate to the arguments' JSON), in the order OpenAI's streamed deltas carry them.
 */
public sealed interface ChatPiece {

    record Reasoning(String text) implements ChatPiece {}

    record Content(String text) implements ChatPiece {}

    /** Tool call {@code call} (0-based within the choice) begins. */
    record CallStart(int call, String name) implements ChatPiece {}

    /** More of tool call {@code call}'s arguments. */
    record CallArguments(int call, String fragment) implements ChatPiece {}
}

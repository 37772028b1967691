package ai.arbor.cluster.bench;

import java.util.Locale;

/** Which OpenAI route the benchmark drives. */
public enum Endpoint {
    CHAT("/v1/chat/completions"),
    COMPLETIONS("/v1/completions");

    private final String path;

    Endpoint(String path) { this.path = path; }

    public String path() { return path; }

    public static Endpoint parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "chat", "chat-completions", "chat_completions" -> CHAT;
            case "completions", "completion" -> COMPLETIONS;
            default -> throw new BenchException("--endpoint must be chat or completions, not '" + s + "'");
        };
    }
}

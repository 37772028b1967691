package ai.arbor.config;

import com.typesafe.config.Config;

/**
 * {@code arbor.frontend.limits}: how much work one request may ask for and how much a frontend queues per model,
 * counted in sequences (prompts × n) and tokens, so that one request cannot take the place of thousands.
 *
 * @param maxSequencesPerRequest prompts × n of one request
 * @param maxQueuedSequences     sequences in flight at one frontend (all models)
 * @param maxQueuedTokens        prompt tokens + max_tokens of the sequences in flight, per model
 * @param maxBytesPerToken       a prompt longer than max-model-len × this many UTF-8 bytes is refused before it is
 *                               tokenized
 * @param maxStopStrings         entries of {@code stop} (and of {@code stop_token_ids})
 * @param maxStopStringBytes     UTF-8 bytes of one stop string
 * @param maxEmbeddingInputs     inputs of one embeddings request
 */
public record RequestLimits(int maxSequencesPerRequest, int maxQueuedSequences, long maxQueuedTokens,
                            int maxBytesPerToken, int maxStopStrings, int maxStopStringBytes, int maxEmbeddingInputs) {

    static RequestLimits from(Config c) {
        RequestLimits l = new RequestLimits(c.getInt("max-sequences-per-request"), c.getInt("max-queued-sequences"),
                c.getLong("max-queued-tokens"), c.getInt("max-bytes-per-token"), c.getInt("max-stop-strings"),
                c.getInt("max-stop-string-bytes"), c.getInt("max-embedding-inputs"));
        Settings.positive("arbor.frontend.limits.max-sequences-per-request", l.maxSequencesPerRequest);
        Settings.positive("arbor.frontend.limits.max-queued-sequences", l.maxQueuedSequences);
        Settings.positive("arbor.frontend.limits.max-queued-tokens", l.maxQueuedTokens);
        Settings.positive("arbor.frontend.limits.max-bytes-per-token", l.maxBytesPerToken);
        Settings.atLeast("arbor.frontend.limits.max-stop-strings", l.maxStopStrings, 0);
        Settings.positive("arbor.frontend.limits.max-stop-string-bytes", l.maxStopStringBytes);
        Settings.positive("arbor.frontend.limits.max-embedding-inputs", l.maxEmbeddingInputs);
        return l;
    }
}

package ai.arbor.http;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.gpu.protocol.TokenLogprobs;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * OpenAI's JSON for chat completions ({@code chat.completion[.chunk]}) and text completions ({@code text_completion}):
 * streamed chunks and whole responses, including logprobs in each endpoint's own shape.
 */
abstract sealed class OutputFormat permits OutputFormat.Chat, OutputFormat.Text {
    final String id;
    final long created;
    final String model;
    final ModelTokenizer tokenizer;
    final boolean includeUsageNull;
    /** How many alternatives to show per token (the engine may have computed more); -1 = all. */
    int requestedTop = -1;
    private ChunkTemplate chunks;

    OutputFormat(String id, long created, String model, ModelTokenizer tokenizer, boolean includeUsageNull) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.tokenizer = tokenizer;
        this.includeUsageNull = includeUsageNull;
    }

    static OutputFormat of(ParsedRequest r, String id, long created, boolean includeUsageNull) {
        ModelTokenizer t = r.model().frontend().tokenizer();
        OutputFormat f = r.chat() ? new Chat(id, created, r.model().name(), t, includeUsageNull)
                : new Text(id, created, r.model().name(), t, includeUsageNull);
        if (f instanceof Chat c && !r.rules().plain()) c.parsed = new ParsedChoices(r.rules());
        f.requestedTop = r.topLogprobs() == null ? -1 : r.topLogprobs();
        f.useChunkTemplate();
        return f;
    }

    void useChunkTemplate() {
        chunks = new ChunkTemplate(this instanceof Chat, id, chunkObject(), created, model, includeUsageNull);
    }

    /** The SSE event of a delta: pre-serialised where it can be (see {@link ChunkTemplate}). */
    ByteString sseDelta(GenerationEvent.Delta d) {
        ByteString fast = d.logprobs() != null && !d.logprobs().isEmpty() ? null : chunks.content(d.index(), d.text());
        return fast != null ? fast : Json.sse(delta(d));
    }

    /** The SSE events sent before any token. */
    List<ByteString> sseOpening(int choices) {
        List<ObjectNode> nodes = new java.util.ArrayList<>();
        opening(choices, nodes);
        List<ByteString> events = new java.util.ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            ByteString fast = chunks.role(i);
            events.add(fast != null ? fast : Json.sse(nodes.get(i)));
        }
        return events;
    }

    /** The SSE event that ends a choice. */
    ByteString sseFinish(int index, String reason) {
        ByteString fast = chunks.finish(index, reason);
        return fast != null ? fast : Json.sse(finish(index, reason));
    }

    /** Chunks sent before any token (chat: the assistant role). */
    abstract void opening(int choices, List<ObjectNode> out);

    abstract ObjectNode delta(GenerationEvent.Delta d);

    abstract ObjectNode finish(int index, String reason);

    abstract ObjectNode response(List<ChoiceText> choices, ObjectNode usage);

    abstract String chunkObject();

    ObjectNode chunk() {
        ObjectNode c = Json.object();
        c.put("id", id);
        c.put("object", chunkObject());
        c.put("created", created);
        c.put("model", model);
        return c;
    }

    ObjectNode usageChunk(ObjectNode usage) {
        ObjectNode c = chunk();
        c.putArray("choices");
        c.set("usage", usage);
        return c;
    }

    static ObjectNode usage(int prompt, int completion, int cached) {
        ObjectNode u = Json.object();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return u;
    }

    ObjectNode withChoice(ObjectNode chunk, ObjectNode choice) {
        chunk.putArray("choices").add(choice);
        if (includeUsageNull) chunk.putNull("usage");
        return chunk;
    }

    /** What a whole (non-streamed) response accumulates per choice. */
    static final class ChoiceText {
        final StringBuilder text = new StringBuilder();
        final ArrayNode logprobs = Json.F.arrayNode();
        boolean hasLogprobs;
        String finishReason = "stop";
        // text completions' logprobs come as parallel arrays
        final ArrayNode tokens = Json.F.arrayNode(), tokenLogprobs = Json.F.arrayNode(), top = Json.F.arrayNode(),
                offsets = Json.F.arrayNode();
    }

    static final class Chat extends OutputFormat {
        /** Reads reasoning and tool calls out of the text; null when the text is all content. */
        ParsedChoices parsed;

        Chat(String id, long created, String model, ModelTokenizer t, boolean usageNull) {
            super(id, created, model, t, usageNull);
        }

        @Override
        ByteString sseDelta(GenerationEvent.Delta d) {
            if (parsed == null) return super.sseDelta(d);
            List<ObjectNode> deltas = parsed.deltas(d.index(), d.text());
            boolean logprobs = d.logprobs() != null && !d.logprobs().isEmpty();
            if (deltas.isEmpty() && logprobs) deltas = List.of(Json.object().put("content", ""));
            ByteString out = ByteString.emptyByteString();
            for (int i = 0; i < deltas.size(); i++) {
                ObjectNode choice = Json.object();
                choice.put("index", d.index());
                choice.set("delta", deltas.get(i));
                if (i == 0 && logprobs) {
                    ArrayNode content = choice.putObject("logprobs").putArray("content");
                    for (TokenLogprobs lp : d.logprobs()) content.add(entry(lp));
                } else {
                    choice.putNull("logprobs");
                }
                choice.putNull("finish_reason");
                out = out.concat(Json.sse(withChoice(chunk(), choice)));
            }
            return out;
        }

        @Override
        ByteString sseFinish(int index, String reason) {
            if (parsed == null) return super.sseFinish(index, reason);
            ByteString out = ByteString.emptyByteString();
            for (ObjectNode delta : parsed.end(index)) {
                ObjectNode choice = Json.object();
                choice.put("index", index);
                choice.set("delta", delta);
                choice.putNull("logprobs");
                choice.putNull("finish_reason");
                out = out.concat(Json.sse(withChoice(chunk(), choice)));
            }
            return out.concat(Json.sse(finish(index, parsed.finishReason(index, reason))));
        }

        @Override
        String chunkObject() { return "chat.completion.chunk"; }

        @Override
        void opening(int choices, List<ObjectNode> out) {
            for (int i = 0; i < choices; i++) {
                ObjectNode choice = Json.object();
                choice.put("index", i);
                choice.putObject("delta").put("role", "assistant").put("content", "");
                choice.putNull("logprobs");
                choice.putNull("finish_reason");
                out.add(withChoice(chunk(), choice));
            }
        }

        @Override
        ObjectNode delta(GenerationEvent.Delta d) {
            ObjectNode choice = Json.object();
            choice.put("index", d.index());
            choice.putObject("delta").put("content", d.text());
            if (d.logprobs() != null && !d.logprobs().isEmpty()) {
                ArrayNode content = choice.putObject("logprobs").putArray("content");
                for (TokenLogprobs lp : d.logprobs()) content.add(entry(lp));
            } else {
                choice.putNull("logprobs");
            }
            choice.putNull("finish_reason");
            return withChoice(chunk(), choice);
        }

        @Override
        ObjectNode finish(int index, String reason) {
            ObjectNode choice = Json.object();
            choice.put("index", index);
            choice.putObject("delta");
            choice.putNull("logprobs");
            choice.put("finish_reason", reason);
            return withChoice(chunk(), choice);
        }

        private ObjectNode entry(TokenLogprobs lp) {
            ObjectNode e = token(lp.tokenId(), lp.logprob());
            ArrayNode top = e.putArray("top_logprobs");
            int k = requestedTop >= 0 ? Math.min(requestedTop, lp.topTokenIds().length) : lp.topTokenIds().length;
            for (int i = 0; i < k; i++) top.add(token(lp.topTokenIds()[i], lp.topLogprobs()[i]));
            return e;
        }

        private ObjectNode token(int id, float logprob) {
            String text = tokenizer.tokenText(id);
            ObjectNode t = Json.object();
            t.put("token", text);
            t.put("logprob", logprob);
            ArrayNode bytes = t.putArray("bytes");
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xFF);
            return t;
        }

        @Override
        void accumulate(ChoiceText c, GenerationEvent.Delta d) {
            c.text.append(d.text());
            if (d.logprobs() != null) {
                for (TokenLogprobs lp : d.logprobs()) {
                    c.hasLogprobs = true;
                    c.logprobs.add(entry(lp));
                }
            }
        }

        @Override
        ObjectNode response(List<ChoiceText> choices, ObjectNode usage) {
            ObjectNode r = Json.object();
            r.put("id", id);
            r.put("object", "chat.completion");
            r.put("created", created);
            r.put("model", model);
            ArrayNode arr = r.putArray("choices");
            for (int i = 0; i < choices.size(); i++) {
                ChoiceText c = choices.get(i);
                ObjectNode choice = arr.addObject();
                choice.put("index", i);
                ObjectNode msg = choice.putObject("message");
                msg.put("role", "assistant");
                String reason = c.finishReason;
                if (parsed == null) msg.put("content", c.text.toString());
                else reason = parsed.message(msg, c.text.toString(), reason);
                msg.putNull("refusal");
                if (c.hasLogprobs) choice.putObject("logprobs").set("content", c.logprobs);
                else choice.putNull("logprobs");
                choice.put("finish_reason", reason);
            }
            r.set("usage", usage);
            return r;
        }
    }

    static final class Text extends OutputFormat {
        Text(String id, long created, String model, ModelTokenizer t, boolean usageNull) {
            super(id, created, model, t, usageNull);
        }

        @Override
        String chunkObject() { return "text_completion"; }

        @Override
        void opening(int choices, List<ObjectNode> out) {}

        @Override
        ObjectNode delta(GenerationEvent.Delta d) {
            ObjectNode choice = Json.object();
            choice.put("index", d.index());
            choice.put("text", d.text());
            if (d.logprobs() != null && !d.logprobs().isEmpty()) {
                ChoiceText tmp = new ChoiceText();
                addLogprobs(tmp, d, 0);
                choice.set("logprobs", logprobsObject(tmp));
            } else {
                choice.putNull("logprobs");
            }
            choice.putNull("finish_reason");
            return withChoice(chunk(), choice);
        }

        @Override
        ObjectNode finish(int index, String reason) {
            ObjectNode choice = Json.object();
            choice.put("index", index);
            choice.put("text", "");
            choice.putNull("logprobs");
            choice.put("finish_reason", reason);
            return withChoice(chunk(), choice);
        }

        @Override
        void accumulate(ChoiceText c, GenerationEvent.Delta d) {
            int offset = c.text.length();
            c.text.append(d.text());
            if (d.logprobs() != null && !d.logprobs().isEmpty()) addLogprobs(c, d, offset);
        }

        private void addLogprobs(ChoiceText c, GenerationEvent.Delta d, int offset) {
            for (TokenLogprobs lp : d.logprobs()) {
                c.hasLogprobs = true;
                String token = tokenizer.tokenText(lp.tokenId());
                c.tokens.add(token);
                c.tokenLogprobs.add(lp.logprob());
                ObjectNode alts = Json.object();
                int k = requestedTop >= 0 ? Math.min(requestedTop, lp.topTokenIds().length) : lp.topTokenIds().length;
                for (int i = 0; i < k; i++) alts.put(tokenizer.tokenText(lp.topTokenIds()[i]), lp.topLogprobs()[i]);
                c.top.add(alts);
                c.offsets.add(offset);
                // a delta may hold several tokens (coalesced for a slow reader): each starts where the last ended
                offset += token.length();
            }
        }

        private static ObjectNode logprobsObject(ChoiceText c) {
            ObjectNode lp = Json.object();
            lp.set("tokens", c.tokens);
            lp.set("token_logprobs", c.tokenLogprobs);
            lp.set("top_logprobs", c.top);
            lp.set("text_offset", c.offsets);
            return lp;
        }

        @Override
        ObjectNode response(List<ChoiceText> choices, ObjectNode usage) {
            ObjectNode r = Json.object();
            r.put("id", id);
            r.put("object", "text_completion");
            r.put("created", created);
            r.put("model", model);
            ArrayNode arr = r.putArray("choices");
            for (int i = 0; i < choices.size(); i++) {
                ChoiceText c = choices.get(i);
                ObjectNode choice = arr.addObject();
                choice.put("index", i);
                choice.put("text", c.text.toString());
                if (c.hasLogprobs) choice.set("logprobs", logprobsObject(c));
                else choice.putNull("logprobs");
                choice.put("finish_reason", c.finishReason);
            }
            r.set("usage", usage);
            return r;
        }
    }

    /** Folds a delta into a whole response's choice. */
    abstract void accumulate(ChoiceText c, GenerationEvent.Delta d);
}

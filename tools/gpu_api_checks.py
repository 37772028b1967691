#!/usr/bin/env python3
"""API checks against a running `arbor serve --device cuda` (the GPU serving benchmark runs them once serve is up).

The model has random weights, so only what the API promises whatever the weights is checked: constrained output
that parses and matches its schema, a forced tool call, logprobs with top_logprobs, n > 1, seeded reproducibility,
and embeddings of unit length that do not depend on what they are batched with. Prints one line per check and exits non-zero if
any failed.
Usage: gpu_api_checks.py BASE_URL MODEL_NAME
"""
import json
import sys
import urllib.error
import urllib.request

base, model = sys.argv[1].rstrip("/"), sys.argv[2]
failures = 0


def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def check(name, ok, detail):
    global failures
    failures += 0 if ok else 1
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")


def chat(extra):
    body = {"model": model, "messages": [{"role": "user", "content": "Reply."}], "max_tokens": 64}
    body.update(extra)
    return post("/v1/chat/completions", body)


schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"enum": [1, 2, 3]}},
          "required": ["ok", "n"], "additionalProperties": False}
status, r = chat({"temperature": 0.7, "top_p": 0.9, "response_format": {
    "type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": schema}}})
try:
    doc = json.loads(r["choices"][0]["message"]["content"])
    check("json_schema", status == 200 and set(doc) == {"ok", "n"} and isinstance(doc["ok"], bool)
          and doc["n"] in (1, 2, 3), json.dumps(doc))
except Exception as e:  # noqa: BLE001 - any shape problem is the failure being reported
    check("json_schema", False, f"status {status}: {e}: {json.dumps(r)[:300]}")

tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"enum": ["Paris", "Rome"]}}, "required": ["city"],
    "additionalProperties": False}}}]
status, r = chat({"tools": tools, "tool_choice": "required", "temperature": 1.0})
try:
    call = r["choices"][0]["message"]["tool_calls"][0]["function"]
    check("tool_choice required", status == 200 and call["name"] == "get_weather"
          and json.loads(call["arguments"])["city"] in ("Paris", "Rome"), json.dumps(call))
except Exception as e:  # noqa: BLE001
    check("tool_choice required", False, f"status {status}: {e}: {json.dumps(r)[:300]}")

status, r = chat({"temperature": 0.8, "logprobs": True, "top_logprobs": 5, "max_tokens": 16})
try:
    content = r["choices"][0]["logprobs"]["content"]
    check("logprobs", status == 200 and len(content) > 0 and all(len(t["top_logprobs"]) == 5 for t in content)
          and all(t["logprob"] <= 0 for t in content), f"{len(content)} tokens, 5 alternatives each")
except Exception as e:  # noqa: BLE001
    check("logprobs", False, f"status {status}: {e}: {json.dumps(r)[:300]}")

status, r = chat({"temperature": 1.0, "n": 3, "max_tokens": 16})
check("n=3", status == 200 and len(r.get("choices", [])) == 3, f"status {status}, {len(r.get('choices', []))} choices")

seeded = [chat({"temperature": 1.0, "top_k": 50, "min_p": 0.01, "presence_penalty": 0.5, "frequency_penalty": 0.3,
                "repetition_penalty": 1.1, "seed": 1234, "max_tokens": 24}) for _ in range(2)]
texts = [r["choices"][0]["message"]["content"] if s == 200 else None for s, r in seeded]
check("seed reproducible", texts[0] is not None and texts[0] == texts[1], repr(texts[0])[:80])

# the CUDA backend computes embeddings (CudaSelfCheck compares them with the CPU backend's): unit vectors, and an
# input's vector the same alone and beside a longer one (within the self-check's bf16 tolerance)
alone_status, alone = post("/v1/embeddings", {"model": model, "input": "hello"})
status, r = post("/v1/embeddings", {"model": model, "input": ["hello", "the quick brown fox jumps over the lazy dog " * 8]})
try:
    a, b, c = alone["data"][0]["embedding"], r["data"][0]["embedding"], r["data"][1]["embedding"]
    norms = [sum(x * x for x in v) ** 0.5 for v in (a, b, c)]
    diff = max(abs(x - y) for x, y in zip(a, b))
    check("embeddings", alone_status == 200 and status == 200 and len(a) == len(b) == len(c) > 0
          and all(abs(n - 1) < 1e-3 for n in norms) and diff <= 0.01,
          f"{len(a)} dimensions, norms {', '.join(f'{n:.4f}' for n in norms)}, alone vs batched max |diff| {diff:.5f}")
except Exception as e:  # noqa: BLE001
    check("embeddings", False, f"status {alone_status}/{status}: {e}: {json.dumps(r)[:300]}")

sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Renders the chat templates under gpu/model/src/test/resources/templates/ with Python jinja2, configured exactly like
Hugging Face transformers' apply_chat_template (transformers/utils/chat_template_utils.py), and writes the results to
gpu/model/src/test/resources/templates/fixtures.json, which ChatTemplateFixturesTest compares with our Jinjava rendering.

Environment as in transformers: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
extensions=[loopcontrols]); filter tojson = json.dumps(ensure_ascii=False, indent, separators, sort_keys);
globals raise_exception (raises TemplateError) and strftime_now. The render call passes messages, tools, documents,
add_generation_prompt and the special tokens (bos_token, eos_token), plus any extra variables.

Run: python3 tools/render_chat_templates.py
"""
import json
import os
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gpu", "src", "test", "resources", "templates")


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


class AssistantTracker(jinja2.ext.Extension):
    """transformers' {% generation %} block, reduced to what rendering sees: its body, unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city — °C by default",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich or 東京"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
                "detailed": {"type": "boolean", "default": False},
                "extra": {"type": "object", "properties": {}, "required": []},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Current time",
                                               "parameters": {"type": "object", "properties": {}}}}

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
USER = {"role": "user", "content": "Hello! How are you?"}
ASSISTANT = {"role": "assistant", "content": "I am fine, thank you. How can I help?"}
USER2 = {"role": "user", "content": "Tell me a joke about compilers."}
UNICODE = [
    {"role": "system", "content": "  Réponds en français, s'il te plaît.  \n"},
    {"role": "user", "content": "你好，世界！🙂 Grüße aus München — \"quoted\" and \\backslash\\\n\ttabbed"},
    {"role": "assistant", "content": "こんにちは 👋🏽"},
    {"role": "user", "content": "Ça va? ∑ x² ≤ ∞"},
]
TOOL_CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"type": "function", "function": {"name": "get_weather",
                                      "arguments": {"city": "Zürich", "unit": "celsius", "days": 3, "detailed": True,
                                                    "ratio": 0.5, "tags": ["a", "b"], "none": None}}}]}
TOOL_CALLS_2 = {"role": "assistant", "content": None, "tool_calls": [
    {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
    {"type": "function", "function": {"name": "get_time", "arguments": {}}}]}
TOOL_RESULT = {"role": "tool", "content": "{\"temperature\": 21, \"condition\": \"sunny ☀\"}"}
TOOL_RESULT2 = {"role": "tool", "content": "12:00"}


def cases():
    basic = [
        ("user-only", [USER], True, {}),
        ("user-only-no-gen", [USER], False, {}),
        ("system-user", [SYSTEM, USER], True, {}),
        ("multi-turn", [SYSTEM, USER, ASSISTANT, USER2], True, {}),
        ("multi-turn-no-system", [USER, ASSISTANT, USER2], True, {}),
        ("multi-turn-ends-assistant", [SYSTEM, USER, ASSISTANT], False, {}),
        ("non-ascii", UNICODE, True, {}),
        ("empty-content", [{"role": "user", "content": ""}], True, {}),
    ]
    out = []
    for tpl in ["tiny-chatml.jinja", "tiny-chatml-bos.jinja", "qwen2.5-instruct.jinja", "llama-3.1-instruct.jinja",
                "qwen3.jinja"]:
        for name, msgs, gen, extra in basic:
            out.append((tpl, name, msgs, gen, extra))
    out.append(("tiny-chatml-bos.jinja", "unknown-role-raises", [USER, TOOL_RESULT], True, {}))
    out.append(("tiny-chatml.jinja", "system-later", [USER, SYSTEM, USER2], True, {}))

    q = "qwen2.5-instruct.jinja"
    out.append((q, "tools", [USER], True, {"tools": [WEATHER_TOOL, TIME_TOOL]}))
    out.append((q, "tools-with-system", [SYSTEM, USER], True, {"tools": [WEATHER_TOOL]}))
    out.append((q, "tool-call-round-trip", [SYSTEM, USER, TOOL_CALL, TOOL_RESULT], True, {"tools": [WEATHER_TOOL]}))
    out.append((q, "two-tool-calls", [USER, TOOL_CALLS_2, TOOL_RESULT, TOOL_RESULT2,
                                      {"role": "assistant", "content": "Done."}], False,
                {"tools": [WEATHER_TOOL, TIME_TOOL]}))
    out.append((q, "tool-call-with-content", [USER, dict(TOOL_CALL, content="Let me check.")], False, {}))

    l = "llama-3.1-instruct.jinja"
    out.append((l, "date-string", [SYSTEM, USER], True, {"date_string": "24 Nov 2026"}))
    out.append((l, "tools-in-user-message", [SYSTEM, USER], True, {"tools": [WEATHER_TOOL, TIME_TOOL]}))
    out.append((l, "tools-in-system", [SYSTEM, USER], True,
                {"tools": [WEATHER_TOOL], "tools_in_user_message": False}))
    out.append((l, "tool-call-round-trip", [USER, TOOL_CALL, TOOL_RESULT], True, {"tools": [WEATHER_TOOL]}))
    out.append((l, "tool-result-text", [USER, TOOL_CALL, TOOL_RESULT2], True, {}))
    out.append((l, "two-tool-calls-raise", [USER, TOOL_CALLS_2], True, {}))
    out.append((l, "tools-without-user-raise", [SYSTEM], True, {"tools": [WEATHER_TOOL]}))
    out.append((l, "builtin-tools", [SYSTEM, USER, {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "brave_search", "arguments": {"query": "weather in Zürich"}}}]},
                                     {"role": "ipython", "content": "sunny"}], True,
                {"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]}))
    q3 = "qwen3.jinja"
    thought = {"role": "assistant", "content": "<think>\nThe user greets me.\n</think>\n\nHello! I am fine."}
    out.append((q3, "thinking-history", [SYSTEM, USER, thought, USER2], True, {}))
    out.append((q3, "thinking-last", [USER, thought], False, {}))
    out.append((q3, "reasoning-content-field", [USER, {"role": "assistant", "content": "Answer.",
                                                       "reasoning_content": "\nshort thought\n"}], False, {}))
    out.append((q3, "enable-thinking-false", [USER], True, {"enable_thinking": False}))
    out.append((q3, "tools", [SYSTEM, USER], True, {"tools": [WEATHER_TOOL, TIME_TOOL]}))
    out.append((q3, "tool-round-trip", [USER, TOOL_CALLS_2, TOOL_RESULT, TOOL_RESULT2,
                                        {"role": "user", "content": "<tool_response>\nlate\n</tool_response>"},
                                        thought], True, {"tools": [WEATHER_TOOL, TIME_TOOL]}))
    out.append((q3, "string-arguments", [USER, {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"type": "function", "function": {"name": "get_time", "arguments": "{\"tz\": \"UTC\"}"}}]}], False, {}))

    features = {"z": "Zürich ☀ \u0001 \"q\" \\ \n", "b": [1, 2.5, True, None, 1e-05, 1e16, -0.0, 3.0, 123456789.123],
                "a": {}, "c": [], "nested": {"k": {"deep": [{"x": 1}]}}, "big": 12345678901234}
    out.append(("python-features.jinja", "features", [SYSTEM, TOOL_CALL, USER2], True, {"extra_data": features}))
    return out


def main():
    env = environment()
    tokens = {
        "tiny-chatml.jinja": (None, "<|im_end|>"),
        "tiny-chatml-bos.jinja": ("<|begin_of_text|>", "<|im_end|>"),
        "qwen2.5-instruct.jinja": (None, "<|im_end|>"),
        "llama-3.1-instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
        "python-features.jinja": ("<s>", "</s>"),
        "qwen3.jinja": (None, "<|im_end|>"),
    }
    fixtures = []
    for tpl, name, messages, gen, extra in cases():
        with open(os.path.join(ROOT, tpl), encoding="utf-8") as f:
            template = env.from_string(f.read())
        bos, eos = tokens[tpl]
        variables = {"bos_token": bos, "eos_token": eos}
        variables.update(extra)
        fixture = {"template": tpl, "name": name, "bos_token": bos, "eos_token": eos, "messages": messages,
                   "add_generation_prompt": gen, "extra": extra}
        try:
            kwargs = dict(variables)
            kwargs.setdefault("tools", None)
            kwargs.setdefault("documents", None)
            fixture["expected"] = template.render(messages=messages, add_generation_prompt=gen, **kwargs)
        except jinja2.exceptions.TemplateError as e:
            fixture["error"] = str(e)
        fixtures.append(fixture)
    with open(os.path.join(ROOT, "fixtures.json"), "w", encoding="utf-8") as f:
        json.dump(fixtures, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(fixtures)} fixtures, {sum('error' in x for x in fixtures)} of them errors")


if __name__ == "__main__":
    main()

"""The official OpenAI Python SDK against a Switchyard gateway whose model
`claude` is an `anthropic/` deployment pointing at the mock Anthropic API.

Run by `cargo test --test it anthropic` (tests/it/anthropic.rs), which
starts the mock and the gateway and sets:

  SWITCHYARD_BASE_URL  e.g. http://127.0.0.1:PORT/v1
  SWITCHYARD_API_KEY   the gateway's master key

The mock's answers (see `sdk_reply` in tests/it/anthropic.rs): a Message
"Hello from Claude" (12 input, 4 output tokens); a streamed "Hello" (12
input + 4 cache-read, 2 output tokens); a streamed text and two tool calls
when tools are given; a 429 for the message "rate limit me".

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import json
import os
import sys

import openai

MODEL = "claude"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


class CheckFailed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)


def ok(name):
    print(f"ok - {name}", flush=True)


def env(name):
    value = os.environ.get(name)
    if not value:
        print(f"FAIL: environment variable {name} is not set", file=sys.stderr)
        sys.exit(2)
    return value


client = openai.OpenAI(
    base_url=env("SWITCHYARD_BASE_URL"),
    api_key=env("SWITCHYARD_API_KEY"),
    max_retries=0,
    timeout=30,
)


def ask(text):
    return [{"role": "user", "content": text}]


def plain_chat():
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be kind."}] + ask("Hello"),
    )
    check(r.object == "chat.completion", f"object {r.object!r}")
    check(r.id, "empty id")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"role {choice.message.role!r}")
    check(choice.message.content == "Hello from Claude", f"content {choice.message.content!r}")
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    u = r.usage
    check((u.prompt_tokens, u.completion_tokens, u.total_tokens) == (12, 4, 16), f"usage {u}")
    ok("chat completion: content, finish_reason, usage")


def streaming_with_usage():
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=ask("Hi"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text, role, finish = "", None, None
    for i, c in enumerate(chunks):
        check(c.object == "chat.completion.chunk", f"chunk {i}: object {c.object!r}")
        check(c.id == chunks[0].id, f"chunk {i}: id changed")
        for choice in c.choices:
            role = choice.delta.role or role
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
        if c is not chunks[-1]:
            check(c.usage is None, f"chunk {i}: usage before the last chunk")
    check(role == "assistant", f"role {role!r}")
    check(text == "Hello", f"text {text!r}")
    check(finish == "stop", f"finish_reason {finish!r}")
    last = chunks[-1]
    check(last.choices == [], f"last chunk has choices {last.choices}")
    u = last.usage
    check((u.prompt_tokens, u.completion_tokens, u.total_tokens) == (16, 2, 18), f"usage {u}")
    check(u.prompt_tokens_details.cached_tokens == 4, f"cached tokens {u.prompt_tokens_details}")

    with client.chat.completions.stream(model=MODEL, messages=ask("Hi")) as s:
        final = s.get_final_completion()
    check(final.choices[0].message.content == "Hello", f"stream helper content {final.choices[0].message.content!r}")
    ok(f"streaming ({len(chunks)} chunks): text, finish_reason, usage chunk, stream helper")


def tool_call_streaming():
    stream = client.chat.completions.create(
        model=MODEL, messages=ask("Weather and time in Bern?"), tools=TOOLS, stream=True
    )
    calls, text, finish = {}, "", None
    for c in stream:
        for choice in c.choices:
            text += choice.delta.content or ""
            for d in choice.delta.tool_calls or []:
                call = calls.setdefault(d.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = d.id or call["id"]
                if d.function:
                    call["name"] += d.function.name or ""
                    call["arguments"] += d.function.arguments or ""
            finish = choice.finish_reason or finish
    check(text == "Checking.", f"text {text!r}")
    check(sorted(calls) == [0, 1], f"tool call indexes {sorted(calls)}")
    check(calls[0]["id"] == "toolu_01" and calls[0]["name"] == "get_weather", f"call 0 {calls[0]}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Bern"}, f"call 0 arguments {calls[0]['arguments']!r}")
    check(calls[1]["name"] == "get_time" and calls[1]["arguments"] == "{}", f"call 1 {calls[1]}")
    check(finish == "tool_calls", f"finish_reason {finish!r}")

    with client.chat.completions.stream(
        model=MODEL, messages=ask("Weather and time in Bern?"), tools=TOOLS
    ) as s:
        final = s.get_final_completion()
    tc = final.choices[0].message.tool_calls
    check([t.function.name for t in tc] == ["get_weather", "get_time"], f"stream helper tool_calls {tc!r}")
    check(tc[0].function.arguments == calls[0]["arguments"], "stream helper arguments differ")
    ok("tool calls (streaming): two calls assembled by hand and by the stream helper")


def rate_limit_error():
    try:
        client.chat.completions.create(model=MODEL, messages=ask("rate limit me"))
    except openai.RateLimitError as e:
        check(e.status_code == 429, f"status {e.status_code}")
        check(e.response.headers.get("retry-after") == "3", f"retry-after {e.response.headers.get('retry-after')!r}")
        check("Rate limited." in str(e), f"message {e}")
        ok("429 from Anthropic raises RateLimitError with retry-after")
        return
    raise CheckFailed("no RateLimitError raised")


def main():
    checks = [plain_chat, streaming_with_usage, tool_call_streaming, rate_limit_error]
    for c in checks:
        try:
            c()
        except CheckFailed as e:
            print(f"FAIL {c.__name__}: {e}", file=sys.stderr)
            sys.exit(1)
    print(f"all {len(checks)} checks passed")


if __name__ == "__main__":
    main()

"""The official OpenAI Python SDK against a Switchyard gateway whose model
`claude` is an `anthropic/` deployment pointing at the strict mock
Anthropic API (tests/it/support/anthropic_api.rs).

Run by `cargo test --test it anthropic` (tests/it/anthropic/sdk.rs), which
starts the mock and the gateway and sets:

  SWITCHYARD_BASE_URL  e.g. http://127.0.0.1:PORT/v1
  SWITCHYARD_API_KEY   the gateway's master key

Every request names its scenario with a marker, "[scenario:NAME]", in a
user message's text; the mock answers by it (`sdk_reply` in
tests/it/anthropic/sdk.rs), and after this script has run the Rust test
asserts what the mock received for each scenario (system lifted, turns
merged, tool_use/tool_result blocks, image source, the forced json_response
tool, stop_sequences, metadata.user_id, max_tokens, ...). The texts and
numbers below must match that file.

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import json
import os
import sys

import openai
import pydantic
from sdk_checks import CheckFailed, check, ok, env, ask, collect

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
# A 1x1 PNG.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


class Person(pydantic.BaseModel):
    name: str
    age: int


# max_retries=0: every SDK call is exactly one request to the gateway (the
# Rust side counts the requests the mock received), and errors surface at once.
client = openai.OpenAI(
    base_url=env("SWITCHYARD_BASE_URL"),
    api_key=env("SWITCHYARD_API_KEY"),
    max_retries=0,
    timeout=30,
)


def check_usage(u, prompt, completion, cached, where):
    check(u is not None, f"{where}: no usage")
    got = (u.prompt_tokens, u.completion_tokens, u.total_tokens)
    check(got == (prompt, completion, prompt + completion), f"{where}: usage {u}")
    details = u.prompt_tokens_details
    check(details is not None and details.cached_tokens == cached, f"{where}: prompt_tokens_details {details}")


def expect_error(kind, status, call):
    try:
        call()
    except kind as e:
        check(type(e) is kind, f"raised {type(e).__name__}, not exactly {kind.__name__}")
        check(e.status_code == status, f"status {e.status_code}, expected {status}")
        return e
    except openai.APIStatusError as e:
        raise CheckFailed(f"raised {type(e).__name__} ({e.status_code}: {e}), expected {kind.__name__}")
    raise CheckFailed(f"no {kind.__name__} raised")


# --- chat ---------------------------------------------------------------------


def plain_chat():
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be kind."}] + ask("chat", "Hello"),
    )
    check(r.object == "chat.completion", f"object {r.object!r}")
    check(r.id == "msg_01mock", f"id {r.id!r}")
    check(r.model == "claude-sonnet-4-5-20250929", f"model {r.model!r}")
    check(len(r.choices) == 1, f"{len(r.choices)} choices")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"role {choice.message.role!r}")
    check(choice.message.content == "Hello from Claude", f"content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"tool_calls {choice.message.tool_calls!r}")
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    check_usage(r.usage, 12, 4, 0, "chat")
    ok("chat completion: content, finish_reason stop, usage")


def system_and_multi_turn():
    messages = [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "user", "content": [{"type": "text", "text": "I live in Bern."}]},
        {"role": "assistant", "content": "Noted."},
        {"role": "developer", "content": "Use metric units."},
        {"role": "user", "content": "[scenario:multi-turn] What is my name?"},
    ]
    r = client.chat.completions.create(model=MODEL, messages=messages)
    # The mock echoes the system prompt and the number of turns it received.
    content = r.choices[0].message.content
    check(content == "Ada. (3 turns; system: Be terse.\n\nUse metric units.)", f"content {content!r}")
    check(r.choices[0].finish_reason == "stop", f"finish_reason {r.choices[0].finish_reason!r}")
    ok("system + developer messages lifted, consecutive user turns merged, multi-turn")


# --- streaming ----------------------------------------------------------------


def streaming_with_usage():
    chunks, role, text, calls, finish = collect(
        client.chat.completions.create(
            model=MODEL,
            messages=ask("stream", "Hi"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    for i, c in enumerate(chunks[:-1]):
        check(c.usage is None, f"chunk {i}: usage before the last chunk")
    check(role == "assistant", f"role {role!r}")
    check(text == "Hello", f"text {text!r}")
    check(calls == {}, f"tool calls {calls}")
    check(finish == "stop", f"finish_reason {finish!r}")
    last = chunks[-1]
    check(last.choices == [], f"last chunk has choices {last.choices}")
    check_usage(last.usage, 16, 2, 4, "stream usage chunk")

    with client.chat.completions.stream(model=MODEL, messages=ask("stream", "Hi")) as s:
        final = s.get_final_completion()
    check(final.choices[0].message.content == "Hello", f"stream helper content {final.choices[0].message.content!r}")
    check(final.choices[0].finish_reason == "stop", f"stream helper finish {final.choices[0].finish_reason!r}")
    ok(f"streaming ({len(chunks)} chunks): text, finish_reason, usage chunk with cached tokens, stream helper")


def tool_call_streaming():
    chunks, _, text, calls, finish = collect(
        client.chat.completions.create(
            model=MODEL,
            messages=ask("tool-stream", "Weather and time in Bern?"),
            tools=TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    check(text == "Checking.", f"text {text!r}")
    check(sorted(calls) == [0, 1], f"tool call indexes {sorted(calls)}")
    check(calls[0]["id"] == "toolu_01" and calls[0]["name"] == "get_weather", f"call 0 {calls[0]}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Bern"}, f"call 0 arguments {calls[0]['arguments']!r}")
    check(calls[1]["id"] == "toolu_02", f"call 1 {calls[1]}")
    check(calls[1]["name"] == "get_time" and calls[1]["arguments"] == "{}", f"call 1 {calls[1]}")
    check(finish == "tool_calls", f"finish_reason {finish!r}")
    check_usage(chunks[-1].usage, 40, 30, 0, "tool stream usage chunk")

    with client.chat.completions.stream(
        model=MODEL, messages=ask("tool-stream", "Weather and time in Bern?"), tools=TOOLS
    ) as s:
        final = s.get_final_completion()
    tc = final.choices[0].message.tool_calls
    check([t.function.name for t in tc] == ["get_weather", "get_time"], f"stream helper tool_calls {tc!r}")
    check([t.id for t in tc] == ["toolu_01", "toolu_02"], f"stream helper ids {tc!r}")
    check(tc[0].function.arguments == calls[0]["arguments"], "stream helper arguments differ")
    check(final.choices[0].finish_reason == "tool_calls", f"stream helper finish {final.choices[0].finish_reason!r}")
    ok("tool calls (streaming): two calls' deltas assembled by hand and by the stream helper, usage")


# --- tools, images, JSON --------------------------------------------------------


def tools_round_trip():
    messages = ask("tools", "Weather in Bern?")
    r = client.chat.completions.create(
        model=MODEL, messages=messages, tools=TOOLS, tool_choice="auto", parallel_tool_calls=False
    )
    choice = r.choices[0]
    check(choice.finish_reason == "tool_calls", f"finish_reason {choice.finish_reason!r}")
    check(choice.message.content == "Let me check.", f"content {choice.message.content!r}")
    calls = choice.message.tool_calls or []
    check(len(calls) == 1, f"tool_calls {calls!r}")
    call = calls[0]
    check(call.type == "function" and call.id == "toolu_11", f"tool call {call!r}")
    check(call.function.name == "get_weather", f"name {call.function.name!r}")
    check(json.loads(call.function.arguments) == {"city": "Bern"}, f"arguments {call.function.arguments!r}")
    check_usage(r.usage, 30, 20, 0, "tool call")

    # The assistant message goes back as the SDK returned it, then the result.
    messages.append(choice.message)
    messages.append(
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 18, "sky": "sunny"})}
    )
    r = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    choice = r.choices[0]
    check(choice.message.content == "It is 18°C and sunny in Bern.", f"final content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"final tool_calls {choice.message.tool_calls!r}")
    check(choice.finish_reason == "stop", f"final finish_reason {choice.finish_reason!r}")
    ok("tools round trip: tool call (finish_reason tool_calls), tool result sent back, final answer")


def image_part():
    r = client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "[scenario:image] What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            }
        ],
    )
    # The mock describes the image block it received.
    content = r.choices[0].message.content
    check(content == f"An image/png image ({len(PNG)} base64 characters).", f"content {content!r}")
    ok("image part (data URL) sent as a base64 image block")


def json_mode():
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": PERSON_SCHEMA}}
    r = client.chat.completions.create(
        model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format=fmt
    )
    choice = r.choices[0]
    check(choice.message.tool_calls is None, f"tool_calls {choice.message.tool_calls!r}")
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    check(json.loads(choice.message.content) == {"name": "Ada Lovelace", "age": 36}, f"content {choice.message.content!r}")

    parsed = client.chat.completions.parse(
        model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format=Person
    )
    p = parsed.choices[0].message.parsed
    check(p == Person(name="Ada Lovelace", age=36), f"parsed {p!r}")

    _, _, text, calls, finish = collect(
        client.chat.completions.create(
            model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format=fmt, stream=True
        )
    )
    check(calls == {}, f"stream tool calls {calls}")
    check(finish == "stop", f"stream finish_reason {finish!r}")
    check(json.loads(text) == {"name": "Ada Lovelace", "age": 36}, f"stream content {text!r}")
    ok("JSON mode (json_schema): JSON content, parse() into a pydantic model, streamed")


# --- parameters, stop reasons, usage ------------------------------------------


def parameter_mapping():
    r = client.chat.completions.create(
        model=MODEL,
        messages=ask("params", "Count to ten."),
        temperature=0.3,
        top_p=0.8,
        stop=["STOP", "END"],
        max_tokens=50,
        user="user-7",
    )
    choice = r.choices[0]
    check(choice.message.content == "1 2 3", f"content {choice.message.content!r}")
    check(choice.finish_reason == "stop", f"finish_reason (stop_sequence) {choice.finish_reason!r}")
    ok("parameters: temperature, top_p, stop, max_tokens, user sent (asserted on the mock's side)")


def stop_reasons():
    r = client.chat.completions.create(
        model=MODEL, messages=ask("max-tokens", "Tell me a story."), max_completion_tokens=5
    )
    check(r.choices[0].finish_reason == "length", f"finish_reason {r.choices[0].finish_reason!r}")
    check(r.choices[0].message.content == "Once upon a", f"content {r.choices[0].message.content!r}")
    _, _, text, _, finish = collect(
        client.chat.completions.create(
            model=MODEL, messages=ask("max-tokens", "Tell me a story."), max_completion_tokens=5, stream=True
        )
    )
    check((text, finish) == ("Once upon a", "length"), f"stream {text!r} {finish!r}")
    try:
        client.chat.completions.parse(
            model=MODEL, messages=ask("max-tokens", "Tell me a story."), max_completion_tokens=5, response_format=Person
        )
        raise CheckFailed("parse() did not raise LengthFinishReasonError")
    except openai.LengthFinishReasonError:
        pass
    ok("stop reasons: max_tokens -> length (also streamed, and parse() raises LengthFinishReasonError); "
       "end_turn/stop_sequence -> stop; tool_use -> tool_calls")


def usage_with_cache():
    r = client.chat.completions.create(model=MODEL, messages=ask("usage", "Summarise the manual."))
    u = r.usage
    check_usage(u, 1320, 5, 1000, "usage")
    extra = u.model_extra or {}
    check(extra.get("cache_read_input_tokens") == 1000, f"cache_read_input_tokens {extra}")
    check(extra.get("cache_creation_input_tokens") == 300, f"cache_creation_input_tokens {extra}")
    ok("usage: prompt (input + cache read + cache creation), completion, total, cached_tokens")


# --- errors -------------------------------------------------------------------


def rate_limit_error():
    e = expect_error(
        openai.RateLimitError, 429, lambda: client.chat.completions.create(model=MODEL, messages=ask("429", "Hi"))
    )
    check(e.response.headers.get("retry-after") == "3", f"retry-after {e.response.headers.get('retry-after')!r}")
    check("Rate limited." in str(e), f"message {e}")
    check(e.code == "rate_limit_exceeded", f"code {e.code!r}")
    e = expect_error(
        openai.RateLimitError,
        429,
        lambda: list(client.chat.completions.create(model=MODEL, messages=ask("429", "Hi"), stream=True)),
    )
    check(e.response.headers.get("retry-after") == "3", f"stream retry-after {e.response.headers.get('retry-after')!r}")
    ok("429 raises RateLimitError with retry-after (plain and streaming)")


def overloaded_error():
    for stream in (False, True):

        def call():
            r = client.chat.completions.create(model=MODEL, messages=ask("529", "Hi"), stream=stream)
            if stream:
                list(r)

        e = expect_error(openai.InternalServerError, 529, call)
        check(isinstance(e, openai.APIStatusError), "not an APIStatusError")
        check("Overloaded" in str(e), f"message {e}")
        check(e.type == "overloaded_error", f"type {e.type!r}")
    ok("529 overloaded raises InternalServerError (an APIStatusError) with status 529 (plain and streaming)")


def bad_request_errors():
    e = expect_error(
        openai.BadRequestError, 400, lambda: client.chat.completions.create(model=MODEL, messages=ask("400", "Hi"))
    )
    check("does not appear to be a valid png image" in str(e), f"message {e}")
    check(e.type == "invalid_request_error", f"type {e.type!r}")
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.chat.completions.create(model=MODEL, messages=ask("too-long", "Hi")),
    )
    check(e.code == "context_length_exceeded", f"code {e.code!r}")
    check("prompt is too long" in str(e), f"message {e}")
    # Refused by the gateway before any upstream call (the Rust side checks).
    e = expect_error(
        openai.BadRequestError, 400, lambda: client.chat.completions.create(model=MODEL, messages=ask("n", "Hi"), n=2)
    )
    check(e.param == "n", f"param {e.param!r}")
    ok("400 raises BadRequestError (upstream invalid request, context length, and n=2 refused by the gateway)")


def refusal():
    r = client.chat.completions.create(model=MODEL, messages=ask("refusal", "Something unsafe."))
    choice = r.choices[0]
    check(choice.finish_reason == "content_filter", f"finish_reason {choice.finish_reason!r}")
    check(not choice.message.content, f"content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"tool_calls {choice.message.tool_calls!r}")
    _, _, text, _, finish = collect(
        client.chat.completions.create(model=MODEL, messages=ask("refusal", "Something unsafe."), stream=True)
    )
    check((text, finish) == ("I can", "content_filter"), f"stream {text!r} {finish!r}")
    try:
        client.chat.completions.parse(
            model=MODEL, messages=ask("refusal", "Something unsafe."), response_format=Person
        )
        raise CheckFailed("parse() did not raise ContentFilterFinishReasonError")
    except openai.ContentFilterFinishReasonError:
        pass
    ok("safety block: stop_reason refusal -> finish_reason content_filter (plain, streamed, parse() raises)")


def main():
    checks = [
        plain_chat,
        system_and_multi_turn,
        streaming_with_usage,
        tool_call_streaming,
        tools_round_trip,
        image_part,
        json_mode,
        parameter_mapping,
        stop_reasons,
        usage_with_cache,
        rate_limit_error,
        overloaded_error,
        bad_request_errors,
        refusal,
    ]
    for c in checks:
        try:
            c()
        except CheckFailed as e:
            print(f"FAIL {c.__name__}: {e}", file=sys.stderr)
            sys.exit(1)
    print(f"all {len(checks)} checks passed")


if __name__ == "__main__":
    main()

"""The official OpenAI Python SDK against a Switchyard gateway whose models
`command` (chat) and `embed` (embeddings) are `cohere/` deployments pointing
at the strict mock Cohere v2 API (tests/it/support/cohere_api.rs).

Run by `cargo test --test it cohere` (tests/it/cohere/sdk.rs), which starts
the mock and the gateway and sets:

  SWITCHYARD_BASE_URL  e.g. http://127.0.0.1:PORT/v1
  SWITCHYARD_API_KEY   the gateway's master key

Every chat request names its scenario with a marker, "[scenario:NAME]", in
a user message's text; the mock answers by it (`sdk_reply` in
tests/it/cohere/sdk.rs), and after this script has run the Rust test
asserts what the mock received for each scenario (the leading system
message, tool_plan/tool_calls/tool turns, p, k, stop_sequences,
response_format, input_type, output_dimension, ...). The texts and numbers
below must match that file.

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import base64
import json
import os
import struct
import sys

import openai
import pydantic
from sdk_checks import CheckFailed, check, ok, env, ask, collect

MODEL = "command"
EMBED_MODEL = "embed"
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


def check_usage(u, prompt, completion, where):
    check(u is not None, f"{where}: no usage")
    got = (u.prompt_tokens, u.completion_tokens, u.total_tokens)
    check(got == (prompt, completion, prompt + completion), f"{where}: usage {u}")


def expect_error(kind, status, call):
    try:
        call()
    except kind as e:
        check(type(e) is kind, f"raised {type(e).__name__}, not exactly {kind.__name__}")
        check(e.status_code == status, f"status {e.status_code}, expected {status}")
        return e
    except openai.APIError as e:
        raise CheckFailed(f"raised {type(e).__name__} ({e}), expected {kind.__name__}")
    raise CheckFailed(f"no {kind.__name__} raised")


# --- chat ---------------------------------------------------------------------


def plain_chat():
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be kind."}] + ask("chat", "Hello"),
    )
    check(r.object == "chat.completion", f"object {r.object!r}")
    check(r.id == "c14c80c3-mock", f"id {r.id!r}")
    check(r.model == "command-r-plus", f"model {r.model!r}")
    check(len(r.choices) == 1, f"{len(r.choices)} choices")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"role {choice.message.role!r}")
    check(choice.message.content == "Hello from Command", f"content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"tool_calls {choice.message.tool_calls!r}")
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    check_usage(r.usage, 12, 4, "chat (billed units)")
    ok("chat completion: content, finish_reason stop, usage from billed units")


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
    # The mock echoes the system message and the number of turns it received.
    content = r.choices[0].message.content
    check(content == "Ada. (5 turns; system: Be terse.\n\nUse metric units.)", f"content {content!r}")
    check(r.choices[0].finish_reason == "stop", f"finish_reason {r.choices[0].finish_reason!r}")
    ok("system + developer messages as one leading system turn, multi-turn")


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
    check_usage(last.usage, 12, 2, "stream usage chunk")

    with client.chat.completions.stream(model=MODEL, messages=ask("stream", "Hi")) as s:
        final = s.get_final_completion()
    check(final.choices[0].message.content == "Hello", f"stream helper content {final.choices[0].message.content!r}")
    check(final.choices[0].finish_reason == "stop", f"stream helper finish {final.choices[0].finish_reason!r}")
    ok(f"streaming ({len(chunks)} chunks): text, finish_reason, usage chunk, stream helper")


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
    check(text == "I will check both.", f"text (tool plan) {text!r}")
    check(sorted(calls) == [0, 1], f"tool call indexes {sorted(calls)}")
    check(calls[0]["id"] == "get_weather_a1" and calls[0]["name"] == "get_weather", f"call 0 {calls[0]}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Bern"}, f"call 0 arguments {calls[0]['arguments']!r}")
    check(calls[1]["id"] == "get_time_b2" and calls[1]["name"] == "get_time", f"call 1 {calls[1]}")
    check(calls[1]["arguments"] == "{}", f"call 1 arguments {calls[1]['arguments']!r}")
    check(finish == "tool_calls", f"finish_reason {finish!r}")
    check_usage(chunks[-1].usage, 40, 30, "tool stream usage chunk")

    with client.chat.completions.stream(
        model=MODEL, messages=ask("tool-stream", "Weather and time in Bern?"), tools=TOOLS
    ) as s:
        final = s.get_final_completion()
    tc = final.choices[0].message.tool_calls
    check([t.function.name for t in tc] == ["get_weather", "get_time"], f"stream helper tool_calls {tc!r}")
    check([t.id for t in tc] == ["get_weather_a1", "get_time_b2"], f"stream helper ids {tc!r}")
    check(final.choices[0].finish_reason == "tool_calls", f"stream helper finish {final.choices[0].finish_reason!r}")
    ok("tool calls (streaming): plan as content, two calls' deltas by hand and by the stream helper, usage")


# --- tools, JSON -----------------------------------------------------------------


def tools_round_trip():
    messages = ask("tools", "Weather in Bern?")
    r = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, tool_choice="required")
    choice = r.choices[0]
    check(choice.finish_reason == "tool_calls", f"finish_reason {choice.finish_reason!r}")
    check(choice.message.content == "I will look up the weather.", f"content (tool plan) {choice.message.content!r}")
    calls = choice.message.tool_calls or []
    check(len(calls) == 1, f"tool_calls {calls!r}")
    call = calls[0]
    check(call.type == "function" and call.id == "get_weather_x1", f"tool call {call!r}")
    check(call.function.name == "get_weather", f"name {call.function.name!r}")
    check(json.loads(call.function.arguments) == {"city": "Bern"}, f"arguments {call.function.arguments!r}")
    check_usage(r.usage, 30, 20, "tool call")

    # The assistant message goes back as the SDK returned it, then the result.
    messages.append(choice.message)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 18, "sky": "sunny"})})
    r = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    choice = r.choices[0]
    check(choice.message.content == "It is 18°C and sunny in Bern.", f"final content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"final tool_calls {choice.message.tool_calls!r}")
    check(choice.finish_reason == "stop", f"final finish_reason {choice.finish_reason!r}")
    ok("tools round trip: tool call (finish_reason tool_calls), tool result sent back, final answer")


def json_mode():
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": PERSON_SCHEMA}}
    r = client.chat.completions.create(model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format=fmt)
    choice = r.choices[0]
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    check(json.loads(choice.message.content) == {"name": "Ada Lovelace", "age": 36}, f"content {choice.message.content!r}")

    parsed = client.chat.completions.parse(
        model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format=Person
    )
    p = parsed.choices[0].message.parsed
    check(p == Person(name="Ada Lovelace", age=36), f"parsed {p!r}")

    r = client.chat.completions.create(
        model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format={"type": "json_object"}
    )
    check(json.loads(r.choices[0].message.content)["age"] == 36, f"json_object content {r.choices[0].message.content!r}")
    ok("JSON mode: json_schema, parse() into a pydantic model, json_object")


# --- parameters, finish reasons ------------------------------------------------


def parameter_mapping():
    r = client.chat.completions.create(
        model=MODEL,
        messages=ask("params", "Count to ten."),
        temperature=0.3,
        top_p=0.8,
        stop=["STOP", "END"],
        max_tokens=50,
        seed=11,
        frequency_penalty=0.2,
        user="user-7",
    )
    choice = r.choices[0]
    check(choice.message.content == "1 2 3", f"content {choice.message.content!r}")
    check(choice.finish_reason == "stop", f"finish_reason (STOP_SEQUENCE) {choice.finish_reason!r}")
    ok("parameters: temperature, top_p, stop, max_tokens, seed, frequency_penalty (asserted on the mock's side)")


def finish_reasons():
    r = client.chat.completions.create(model=MODEL, messages=ask("max-tokens", "Tell me a story."), max_completion_tokens=5)
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
    ok("finish reasons: MAX_TOKENS -> length (also streamed; parse() raises), STOP_SEQUENCE/COMPLETE -> stop, "
       "TOOL_CALL -> tool_calls")


# --- errors -------------------------------------------------------------------


def rate_limit_error():
    for stream in (False, True):

        def call():
            r = client.chat.completions.create(model=MODEL, messages=ask("429", "Hi"), stream=stream)
            if stream:
                list(r)

        e = expect_error(openai.RateLimitError, 429, call)
        check(e.response.headers.get("retry-after") == "3", f"retry-after {e.response.headers.get('retry-after')!r}")
        check("per minute request limit" in str(e), f"message {e}")
        check(e.code == "rate_limit_exceeded", f"code {e.code!r}")
    ok("429 raises RateLimitError with retry-after (plain and streaming)")


def bad_request_errors():
    e = expect_error(
        openai.BadRequestError, 400, lambda: client.chat.completions.create(model=MODEL, messages=ask("400", "Hi"))
    )
    check("cannot specify both frequency_penalty and presence_penalty" in str(e), f"message {e}")
    check(e.type == "invalid_request_error", f"type {e.type!r}")
    e = expect_error(
        openai.BadRequestError, 400, lambda: client.chat.completions.create(model=MODEL, messages=ask("too-long", "Hi"))
    )
    check(e.code == "context_length_exceeded", f"code {e.code!r}")
    # Refused by the gateway before any upstream call (the Rust side checks).
    e = expect_error(
        openai.BadRequestError, 400, lambda: client.chat.completions.create(model=MODEL, messages=ask("n", "Hi"), n=2)
    )
    check(e.param == "n", f"param {e.param!r}")
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.chat.completions.create(model=MODEL, messages=ask("n", "Hi"), logit_bias={"1": 1}),
    )
    check(e.param == "logit_bias" and e.code == "unsupported_parameter", f"param {e.param!r} code {e.code!r}")
    ok("400 raises BadRequestError (upstream invalid request, context length; n=2 and logit_bias refused by the gateway)")


def server_errors():
    e = expect_error(
        openai.InternalServerError, 500, lambda: client.chat.completions.create(model=MODEL, messages=ask("500", "Hi"))
    )
    check(e.type == "server_error", f"type {e.type!r}")
    # A generation that ends in ERROR after the stream has started.
    try:
        collect(client.chat.completions.create(model=MODEL, messages=ask("stream-error", "Hi"), stream=True))
        raise CheckFailed("the stream did not raise")
    except openai.APIError as e:
        check("generation failed" in str(e), f"stream error {e}")
    ok("500 raises InternalServerError; an ERROR finish mid-stream raises APIError")


# --- embeddings -----------------------------------------------------------------


def vector(text, dims):
    return [((len(text) + i) % 8) / 8.0 - 0.5 for i in range(dims)]


def embeddings():
    texts = ["hello", "goodbye world"]
    r = client.embeddings.create(model=EMBED_MODEL, input=texts)  # the SDK asks for base64
    check(len(r.data) == 2, f"{len(r.data)} embeddings")
    for i, item in enumerate(r.data):
        check(item.index == i, f"index {item.index}")
        check(item.embedding == vector(texts[i], 3), f"embedding {i}: {item.embedding}")
    check(r.usage.prompt_tokens == 18 and r.usage.total_tokens == 18, f"usage {r.usage}")
    r = client.embeddings.create(model=EMBED_MODEL, input="what is bern?", dimensions=256, encoding_format="float")
    check(r.data[0].embedding == vector("what is bern?", 256), "float embedding with 256 dimensions")
    raw = client.embeddings.with_raw_response.create(model=EMBED_MODEL, input="x", encoding_format="base64")
    b64 = json.loads(raw.text)["data"][0]["embedding"]
    floats = list(struct.unpack(f"<{len(base64.b64decode(b64)) // 4}f", base64.b64decode(b64)))
    check(floats == vector("x", 3), f"base64 little-endian f32 {floats}")
    ok("embeddings: the SDK's default base64 decoded, float with dimensions, raw base64 is little-endian f32")


def main():
    checks = [
        plain_chat,
        system_and_multi_turn,
        streaming_with_usage,
        tool_call_streaming,
        tools_round_trip,
        json_mode,
        parameter_mapping,
        finish_reasons,
        rate_limit_error,
        bad_request_errors,
        server_errors,
        embeddings,
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

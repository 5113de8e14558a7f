"""The official OpenAI Python SDK against a Switchyard gateway whose model
`local` is an `ollama_chat/` deployment (and `embed` an `ollama/` one)
pointing at the strict mock of Ollama's native API
(tests/it/support/ollama_api.rs).

Run by `cargo test --test it ollama` (tests/it/ollama/sdk.rs), which starts
the mock and the gateway and sets:

  SWITCHYARD_BASE_URL  e.g. http://127.0.0.1:PORT/v1
  SWITCHYARD_API_KEY   the gateway's master key

Every chat request names its scenario with a marker, "[scenario:NAME]", in
its last user message; the mock answers by it (`sdk_reply` in
tests/it/ollama/sdk.rs), and after this script has run the Rust test
asserts what the mock received for each scenario (messages, options,
format, tools with object arguments, tool_name, images, think, keep_alive,
stream). The texts and numbers below must match that file.

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import json
import os
import sys

import openai
import pydantic
from sdk_checks import CheckFailed, check, ok, env, ask, collect

MODEL = "local"
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
# A 1x1 PNG.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
# The vectors the mock's /api/embed answers with, one per input.
VECTORS = [[0.25, -1.5, 3.0], [1.25, -1.5, 3.0]]


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
    check(r.id.startswith("chatcmpl-"), f"id {r.id!r}")
    check(r.model == "llama3.3", f"model {r.model!r}")
    check(len(r.choices) == 1, f"{len(r.choices)} choices")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"role {choice.message.role!r}")
    check(choice.message.content == "Hello from Ollama", f"content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"tool_calls {choice.message.tool_calls!r}")
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    check_usage(r.usage, 26, 4, "chat")
    ok("chat completion: content, finish_reason stop, usage from prompt_eval_count/eval_count")


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
    # The mock answers with the number of messages and system prompts it received.
    content = r.choices[0].message.content
    check(content == "Ada. (6 messages, 2 system)", f"content {content!r}")
    ok("system + developer + multi-turn: every message sent in order")


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
    check(text == "Hello there", f"text {text!r}")
    check(calls == {}, f"tool calls {calls}")
    check(finish == "stop", f"finish_reason {finish!r}")
    last = chunks[-1]
    check(last.choices == [], f"last chunk has choices {last.choices}")
    check_usage(last.usage, 12, 3, "stream usage chunk")

    with client.chat.completions.stream(model=MODEL, messages=ask("stream", "Hi")) as s:
        final = s.get_final_completion()
    check(final.choices[0].message.content == "Hello there", f"stream helper {final.choices[0].message.content!r}")
    check(final.choices[0].finish_reason == "stop", f"stream helper finish {final.choices[0].finish_reason!r}")
    ok(f"streaming ({len(chunks)} chunks from NDJSON): text, finish_reason, usage chunk, stream helper")


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
    check(text == "", f"text {text!r}")
    check(sorted(calls) == [0, 1], f"tool call indexes {sorted(calls)}")
    check(calls[0]["id"].startswith("call_") and calls[0]["name"] == "get_weather", f"call 0 {calls[0]}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Bern"}, f"call 0 arguments {calls[0]['arguments']!r}")
    check(calls[1]["id"].startswith("call_") and calls[1]["id"] != calls[0]["id"], f"call 1 {calls[1]}")
    check(calls[1]["name"] == "get_time" and calls[1]["arguments"] == "{}", f"call 1 {calls[1]}")
    check(finish == "tool_calls", f"finish_reason {finish!r}")
    check_usage(chunks[-1].usage, 169, 15, "tool stream usage chunk")

    with client.chat.completions.stream(
        model=MODEL, messages=ask("tool-stream", "Weather and time in Bern?"), tools=TOOLS
    ) as s:
        final = s.get_final_completion()
    tc = final.choices[0].message.tool_calls
    check([t.function.name for t in tc] == ["get_weather", "get_time"], f"stream helper tool_calls {tc!r}")
    check(final.choices[0].finish_reason == "tool_calls", f"stream helper finish {final.choices[0].finish_reason!r}")
    ok("tool calls (streaming): two calls with generated ids, assembled by hand and by the stream helper")


# --- tools, images, JSON --------------------------------------------------------


def tools_round_trip():
    messages = ask("tools", "Weather in Bern?")
    r = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, tool_choice="auto")
    choice = r.choices[0]
    check(choice.finish_reason == "tool_calls", f"finish_reason {choice.finish_reason!r}")
    check(choice.message.content == "Let me check.", f"content {choice.message.content!r}")
    calls = choice.message.tool_calls or []
    check(len(calls) == 1, f"tool_calls {calls!r}")
    call = calls[0]
    check(call.type == "function" and call.id.startswith("call_"), f"tool call {call!r}")
    check(call.function.name == "get_weather", f"name {call.function.name!r}")
    check(json.loads(call.function.arguments) == {"city": "Bern"}, f"arguments {call.function.arguments!r}")
    check_usage(r.usage, 122, 33, "tool call")

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
    ok("tools round trip: tool call (finish_reason tool_calls), result sent back with tool_name, final answer")


def image_part():
    content = [
        {"type": "text", "text": "[scenario:image] What is in this picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}])
    # The mock describes the images it received.
    got = r.choices[0].message.content
    check(got == f"1 image ({len(PNG)} base64 characters).", f"content {got!r}")
    remote = [content[0], {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": remote}]),
    )
    check(e.param == "messages[0].content[1]", f"param {e.param!r}")
    check("base64" in str(e), f"message {e}")
    ok("image part: data URL sent as base64 in images; an http URL refused with a 400 naming the part")


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

    _, _, text, _, finish = collect(
        client.chat.completions.create(
            model=MODEL, messages=ask("json", "Who wrote the first program?"), response_format=fmt, stream=True
        )
    )
    check(finish == "stop", f"stream finish_reason {finish!r}")
    check(json.loads(text) == {"name": "Ada Lovelace", "age": 36}, f"stream content {text!r}")

    r = client.chat.completions.create(
        model=MODEL, messages=ask("json-object", "Am I ok? Answer in JSON."), response_format={"type": "json_object"}
    )
    check(json.loads(r.choices[0].message.content) == {"ok": True}, f"json_object {r.choices[0].message.content!r}")
    ok("JSON mode: json_schema as format (create, parse() into pydantic, streamed) and json_object as \"json\"")


# --- parameters, finish reasons, thinking --------------------------------------


def parameter_mapping():
    r = client.chat.completions.create(
        model=MODEL,
        messages=ask("params", "Count to ten."),
        temperature=0.3,
        top_p=0.8,
        seed=7,
        stop=["STOP", "END"],
        max_tokens=50,
        presence_penalty=0.5,
        frequency_penalty=0.25,
        user="user-7",
        extra_body={"top_k": 20, "num_ctx": 4096, "keep_alive": "10m"},
    )
    check(r.choices[0].message.content == "1 2 3", f"content {r.choices[0].message.content!r}")
    ok("parameters: sampling into options, num_predict, num_ctx, top_k, keep_alive (asserted on the mock's side)")


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
    ok("finish reasons: done_reason length -> length (also streamed; parse() raises); stop -> stop; tools -> tool_calls")


def thinking():
    r = client.chat.completions.create(model=MODEL, messages=ask("think", "Who was first?"), reasoning_effort="low")
    msg = r.choices[0].message
    check(msg.content == "Ada Lovelace.", f"content {msg.content!r}")
    extra = msg.model_extra or {}
    check(extra.get("reasoning_content") == "The first program was Ada's.", f"reasoning_content {extra}")
    chunks, _, text, _, _ = collect(
        client.chat.completions.create(
            model=MODEL, messages=ask("think", "Who was first?"), reasoning_effort="low", stream=True
        )
    )
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices
    )
    check((text, reasoning) == ("Ada Lovelace.", "The first program was Ada's."), f"stream {text!r} {reasoning!r}")
    ok("thinking: reasoning_effort -> think, message.thinking -> reasoning_content (plain and streamed)")


# --- errors -------------------------------------------------------------------


def upstream_errors():
    cases = [
        ("404", openai.NotFoundError, 404, "model 'llama3.3' not found"),
        ("400", openai.BadRequestError, 400, "does not support tools"),
        ("429", openai.RateLimitError, 429, "too many requests"),
        ("503", openai.InternalServerError, 503, "server busy"),
        ("500", openai.InternalServerError, 500, "out of memory"),
    ]
    for scenario, kind, status, text in cases:
        for stream in (False, True):

            def call():
                r = client.chat.completions.create(model=MODEL, messages=ask(scenario, "Hi"), stream=stream)
                if stream:
                    list(r)

            e = expect_error(kind, status, call)
            check(text in str(e), f"{scenario}: message {e}")
    ok("errors: 404 NotFoundError, 400 BadRequestError, 429 RateLimitError, 503/500 InternalServerError (plain and streaming)")


def mid_stream_error():
    got = ""
    try:
        for c in client.chat.completions.create(model=MODEL, messages=ask("mid-stream", "Hi"), stream=True):
            got += (c.choices[0].delta.content or "") if c.choices else ""
        raise CheckFailed("no error raised")
    except openai.APIError as e:
        check("error was encountered while running the model" in str(e), f"message {e}")
    check(got == " Yes", f"text before the error {got!r}")
    ok("an error line mid-stream raises APIError after the text before it")


def refused_by_the_gateway():
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.chat.completions.create(
            model=MODEL, messages=ask("never", "Hi"), tools=TOOLS, tool_choice="required"
        ),
    )
    check(e.param == "tool_choice" and e.code == "unsupported_parameter", f"param {e.param!r} code {e.code!r}")
    e = expect_error(
        openai.BadRequestError, 400, lambda: client.chat.completions.create(model=MODEL, messages=ask("never", "Hi"), n=2)
    )
    check(e.param == "n", f"param {e.param!r}")
    r = client.chat.completions.create(
        model=MODEL, messages=ask("dropped", "Hi"), tools=TOOLS, tool_choice="required", extra_body={"drop_params": True}
    )
    check(r.choices[0].message.content == "Hello from Ollama", f"content {r.choices[0].message.content!r}")
    ok("refused by the gateway: tool_choice required (unless drop_params), n=2")


# --- embeddings -----------------------------------------------------------------


def embeddings():
    # The SDK asks for base64 by default and decodes it to floats.
    r = client.embeddings.create(model=EMBED_MODEL, input=["Why is the sky blue?", "Why is the grass green?"])
    check(r.object == "list" and len(r.data) == 2, f"data {r.data!r}")
    check([d.embedding for d in r.data] == VECTORS, f"embeddings {[d.embedding for d in r.data]}")
    check([d.index for d in r.data] == [0, 1], f"indexes {[d.index for d in r.data]}")
    check((r.usage.prompt_tokens, r.usage.total_tokens) == (8, 8), f"usage {r.usage}")
    r = client.embeddings.create(model=EMBED_MODEL, input="Why is the sky blue?", encoding_format="float", dimensions=3)
    check(r.data[0].embedding == VECTORS[0], f"float embedding {r.data[0].embedding}")
    ok("embeddings: SDK default (base64) decoded to the upstream floats; float with dimensions")


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
        finish_reasons,
        thinking,
        upstream_errors,
        mid_stream_error,
        refused_by_the_gateway,
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

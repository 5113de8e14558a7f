"""The official OpenAI Python SDK against Switchyard's bedrock/ deployments,
whose upstream is the strict Bedrock mock of tests/it (SigV4 checked, the
stream in AWS's binary event-stream framing).

Run by `cargo test --test it bedrock` (tests/it/bedrock/sdk.rs), which starts
the mock and the gateway, sets SWITCHYARD_BASE_URL and SWITCHYARD_API_KEY,
and afterwards asserts what the mock received for the requests below (found
by their texts, which must match tests/it/bedrock/sdk.rs).

The mock answers as `brain` in tests/it/bedrock/sdk.rs does: "It is sunny
in Paris." after a tool result; else the JSON answer when the structured
answer tool is offered; else a get_weather call when tools are given; else
a greeting. Usage is 12 prompt and 4 completion tokens. A marker
"[scenario:NAME]" picks another answer: echo (the roles and system blocks
received), rate_limit (429 ThrottlingException), overloaded (503
ServiceUnavailableException), context (400 ValidationException "Input is
too long"), denied (403 AccessDeniedException). Embeddings are i/8.

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import json
import os
import sys

import openai

# Must match tests/it/bedrock/sdk.rs.
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
GREETING = "Hello from Bedrock"
SYSTEM = "Be brief."
ECHO = "[scenario:echo] What is my name?"
QUESTION = "Weather in Paris?"
JSON_ANSWER = {"city": "Paris", "temperature_c": 21}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def check(cond, message):
    if not cond:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def ok(name):
    print(f"ok - {name}", flush=True)


client = openai.OpenAI(
    base_url=os.environ["SWITCHYARD_BASE_URL"],
    api_key=os.environ["SWITCHYARD_API_KEY"],
    max_retries=0,
    timeout=30,
)


def ask(text):
    return [{"role": "user", "content": text}]


def collect(stream):
    """Chunks, text, tool calls by index, finish reason and usage of a stream."""
    chunks, text, calls, finish, usage = [], "", {}, None, None
    for chunk in stream:
        chunks.append(chunk)
        check(chunk.object == "chat.completion.chunk", f"chunk object {chunk.object}")
        check(chunk.id == chunks[0].id, "the chunk id changed")
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for delta in choice.delta.tool_calls or []:
                entry = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = delta.id or entry["id"]
                if delta.function:
                    entry["name"] += delta.function.name or ""
                    entry["arguments"] += delta.function.arguments or ""
            finish = choice.finish_reason or finish
    return chunks, text, calls, finish, usage


def expect_error(kind, status, call, where):
    try:
        call()
    except kind as e:
        check(e.status_code == status, f"{where}: status {e.status_code}")
        return e
    except openai.OpenAIError as e:
        check(False, f"{where}: expected {kind.__name__}, got {type(e).__name__}: {e}")
    check(False, f"{where}: expected {kind.__name__}, got an answer")


def chat():
    r = client.chat.completions.create(model="claude", messages=ask("Hi"))
    check(r.object == "chat.completion" and r.id.startswith("chatcmpl-"), f"{r.object} {r.id}")
    check(r.model == MODEL, f"model {r.model}")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"role {choice.message.role}")
    check(choice.message.content == GREETING, f"content {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"tool calls {choice.message.tool_calls}")
    check(choice.finish_reason == "stop", f"finish {choice.finish_reason}")
    u = r.usage
    check((u.prompt_tokens, u.completion_tokens, u.total_tokens) == (12, 4, 16), f"usage {u}")
    ok("chat (content, finish_reason stop, usage)")


def system_and_multi_turn():
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada!"},
        {"role": "user", "content": [{"type": "text", "text": ECHO}]},
    ]
    content = client.chat.completions.create(model="claude", messages=messages).choices[0].message.content
    check(content == f"roles=user,assistant,user; system={SYSTEM}", f"echo {content!r}")
    ok("system + multi-turn (system blocks, alternating roles)")


def stream():
    chunks, text, calls, finish, usage = collect(
        client.chat.completions.create(
            model="claude", messages=ask("Hi, stream please"), stream=True, stream_options={"include_usage": True}
        )
    )
    check(chunks[0].choices[0].delta.role == "assistant", f"first delta {chunks[0].choices[0].delta}")
    check(text == GREETING and calls == {} and finish == "stop", f"streamed {text!r} {calls} {finish}")
    check(chunks[-1].choices == [] and usage is not None, f"last chunk {chunks[-1]}")
    check((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 4, 16), f"usage {usage}")
    _, _, _, _, usage = collect(client.chat.completions.create(model="claude", messages=ask("Hi"), stream=True))
    check(usage is None, "usage without include_usage")
    ok("streaming (role first, text, finish, usage chunk only when asked)")


def tools_round_trip():
    messages = ask(QUESTION)
    r = client.chat.completions.create(model="claude", messages=messages, tools=TOOLS, tool_choice="required")
    choice = r.choices[0]
    check(choice.finish_reason == "tool_calls", f"finish {choice.finish_reason}")
    calls = choice.message.tool_calls
    check(len(calls) == 1 and calls[0].id == "tooluse_weather1", f"calls {calls}")
    check(calls[0].function.name == "get_weather", f"name {calls[0].function.name}")
    check(json.loads(calls[0].function.arguments) == {"city": "Paris"}, f"args {calls[0].function.arguments}")
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": calls[0].id, "content": json.dumps({"sky": "sunny"})})
    r = client.chat.completions.create(model="claude", messages=messages, tools=TOOLS)
    check(r.choices[0].message.content == "It is sunny in Paris.", f"answer {r.choices[0].message.content!r}")
    ok("tools round trip (tool_calls, tool result back as toolResult)")

    _, text, calls, finish, _ = collect(
        client.chat.completions.create(model="claude", messages=ask(QUESTION), tools=TOOLS, stream=True)
    )
    check(finish == "tool_calls" and list(calls) == [0], f"streamed {calls} {finish}")
    check(calls[0]["id"] == "tooluse_weather1" and calls[0]["name"] == "get_weather", f"call {calls[0]}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Paris"}, f"arguments {calls[0]['arguments']!r}")
    ok("streamed tool call (id and name first, arguments in pieces)")


def json_mode():
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature_c": {"type": "integer"}},
        "required": ["city", "temperature_c"],
    }
    formats = [
        {"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}},
        {"type": "json_object"},
    ]
    for response_format in formats:
        r = client.chat.completions.create(model="claude", messages=ask("Weather as JSON"), response_format=response_format)
        choice = r.choices[0]
        check(choice.finish_reason == "stop" and choice.message.tool_calls is None, f"{choice}")
        check(json.loads(choice.message.content) == JSON_ANSWER, f"content {choice.message.content!r}")
    _, text, calls, finish, _ = collect(
        client.chat.completions.create(
            model="claude", messages=ask("Weather as JSON"), response_format=formats[0], stream=True
        )
    )
    check(json.loads(text) == JSON_ANSWER and calls == {} and finish == "stop", f"streamed {text!r} {calls}")
    ok("JSON mode (schema and object, plain and streamed)")


def image():
    content = [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    r = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": content}])
    check(r.choices[0].message.content == GREETING, f"{r.choices[0].message.content!r}")
    expect_error(
        openai.BadRequestError,
        400,
        lambda: client.chat.completions.create(
            model="claude",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}],
        ),
        "image URL",
    )
    ok("images (data URL as bytes; remote URL refused)")


def errors():
    cases = [
        ("[scenario:rate_limit] Hi", openai.RateLimitError, 429, "ThrottlingException"),
        ("[scenario:overloaded] Hi", openai.InternalServerError, 503, "ServiceUnavailableException"),
        ("[scenario:context] Hi", openai.BadRequestError, 400, "context_length_exceeded"),
        ("[scenario:denied] Hi", openai.PermissionDeniedError, 403, "AccessDeniedException"),
    ]
    for text, kind, status, code in cases:
        e = expect_error(kind, status, lambda: client.chat.completions.create(model="claude", messages=ask(text)), text)
        check(e.code == code, f"{text}: code {e.code}")
        expect_error(
            kind,
            status,
            lambda: list(client.chat.completions.create(model="claude", messages=ask(text), stream=True)),
            f"{text} (stream)",
        )
    ok("errors (429, 503, 400 context_length_exceeded, 403; plain and streamed)")


def embeddings():
    expected = [i / 8 for i in range(8)]
    # The SDK asks for base64 unless told otherwise, and decodes it.
    r = client.embeddings.create(model="titan", input="hello")
    check(r.object == "list" and len(r.data) == 1, f"{r}")
    check(r.data[0].embedding == expected, f"titan base64 {r.data[0].embedding}")
    check(r.usage.prompt_tokens == 3, f"usage {r.usage}")
    r = client.embeddings.create(model="titan", input="hello", encoding_format="float")
    check(r.data[0].embedding == expected, f"titan float {r.data[0].embedding}")
    expect_error(openai.BadRequestError, 400, lambda: client.embeddings.create(model="titan", input=["a", "b"]), "titan batch")
    r = client.embeddings.create(model="cohere", input=["a", "b", "c"])
    check([d.index for d in r.data] == [0, 1, 2], f"cohere {r.data}")
    check(r.data[2].embedding == [((i + 2) % 8) / 8 for i in range(8)], f"cohere {r.data[2].embedding}")
    ok("embeddings (Titan one text, float and base64; Cohere batch)")


chat()
system_and_multi_turn()
stream()
tools_round_trip()
json_mode()
image()
errors()
embeddings()

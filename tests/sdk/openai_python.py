"""The official OpenAI Python SDK against a running Switchyard gateway.

Run by `cargo test --test it sdk` (tests/it/sdk.rs), which starts the gateway
with the mock models named below and sets:

  SWITCHYARD_BASE_URL  e.g. http://127.0.0.1:PORT/v1
  SWITCHYARD_API_KEY   the gateway's master key

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import math
import os
import sys

import openai
from sdk_checks import CheckFailed, check, ok, env

# Must match the model_list in tests/it/sdk.rs.
CHAT_MODEL = "gpt-4o"
EXPECTED_TEXT = "Hello from the mock"
EMBEDDING_MODEL = "text-embedding-3-small"
EMBEDDING_DIMS = 16  # the mock's default when the request sets no `dimensions`
RATE_LIMITED_MODEL = "rate-limited"
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
MESSAGES = [{"role": "user", "content": "Say hello."}]


BASE_URL = env("SWITCHYARD_BASE_URL")
API_KEY = env("SWITCHYARD_API_KEY")
client = openai.OpenAI(base_url=BASE_URL, api_key=API_KEY, max_retries=0, timeout=30)


def check_usage(usage, completion_text, where):
    check(usage is not None, f"{where}: no usage")
    check(usage.prompt_tokens > 0, f"{where}: prompt_tokens {usage.prompt_tokens} <= 0")
    words = len(completion_text.split())
    check(
        usage.completion_tokens == words,
        f"{where}: completion_tokens {usage.completion_tokens} != {words} (words in the answer)",
    )
    check(
        usage.total_tokens == usage.prompt_tokens + usage.completion_tokens,
        f"{where}: total_tokens {usage.total_tokens} != prompt + completion",
    )


def chat_non_streaming():
    r = client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES)
    check(r.object == "chat.completion", f"object is {r.object!r}")
    check(r.id, "empty id")
    check(len(r.choices) == 1, f"{len(r.choices)} choices")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"role {choice.message.role!r}")
    check(
        choice.message.content == EXPECTED_TEXT,
        f"content {choice.message.content!r} != {EXPECTED_TEXT!r}",
    )
    check(choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}")
    check_usage(r.usage, EXPECTED_TEXT, "non-streaming chat")
    ok("chat completion (non-streaming): content and usage")


def chat_streaming():
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    check(len(chunks) >= 3, f"only {len(chunks)} chunks")
    text = ""
    role = None
    finish = None
    for i, c in enumerate(chunks):
        check(c.object == "chat.completion.chunk", f"chunk {i}: object {c.object!r}")
        check(c.id == chunks[0].id, f"chunk {i}: id {c.id!r} != {chunks[0].id!r}")
        for choice in c.choices:
            check(choice.index == 0, f"chunk {i}: choice index {choice.index}")
            if choice.delta.role:
                role = choice.delta.role
            if choice.delta.content:
                check(finish is None, f"chunk {i}: content after finish_reason")
                text += choice.delta.content
            if choice.finish_reason:
                finish = choice.finish_reason
        if c is not chunks[-1]:
            check(c.usage is None, f"chunk {i}: usage before the last chunk: {c.usage}")
    check(role == "assistant", f"streamed role {role!r}")
    check(text == EXPECTED_TEXT, f"streamed text {text!r} != {EXPECTED_TEXT!r}")
    check(finish == "stop", f"streamed finish_reason {finish!r}")
    last = chunks[-1]
    check(last.choices == [], f"last chunk has choices: {last.choices}")
    check_usage(last.usage, EXPECTED_TEXT, "streamed usage chunk")
    ok(f"chat completion (streaming, {len(chunks)} chunks): text, finish_reason, usage chunk")


def chat_stream_helper():
    # The SDK's own accumulator (client.chat.completions.stream) must rebuild
    # the same completion from the chunks.
    with client.chat.completions.stream(
        model=CHAT_MODEL,
        messages=MESSAGES,
        stream_options={"include_usage": True},
    ) as stream:
        deltas = "".join(
            e.delta for e in stream if e.type == "content.delta"
        )
        final = stream.get_final_completion()
    check(deltas == EXPECTED_TEXT, f"content.delta events {deltas!r}")
    check(
        final.choices[0].message.content == EXPECTED_TEXT,
        f"final completion content {final.choices[0].message.content!r}",
    )
    check(final.choices[0].finish_reason == "stop", f"final finish_reason {final.choices[0].finish_reason!r}")
    check_usage(final.usage, EXPECTED_TEXT, "stream helper final completion")
    ok("chat.completions.stream helper: final completion")


def tool_call_non_streaming():
    for tool_choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        r = client.chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, tools=TOOLS, tool_choice=tool_choice
        )
        choice = r.choices[0]
        check(
            choice.finish_reason == "tool_calls",
            f"tool_choice={tool_choice!r}: finish_reason {choice.finish_reason!r}",
        )
        calls = choice.message.tool_calls
        check(calls and len(calls) == 1, f"tool_choice={tool_choice!r}: tool_calls {calls!r}")
        call = calls[0]
        check(call.type == "function", f"tool call type {call.type!r}")
        check(call.id, "tool call without id")
        check(call.function.name == "get_weather", f"tool name {call.function.name!r}")
        check(call.function.arguments == "{}", f"tool arguments {call.function.arguments!r}")
    ok("tool call (non-streaming): tool_choice required and named function")


def tool_call_streaming():
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=MESSAGES,
        tools=TOOLS,
        tool_choice="required",
        stream=True,
    )
    calls = {}
    finish = None
    for c in stream:
        for choice in c.choices:
            for d in choice.delta.tool_calls or []:
                call = calls.setdefault(d.index, {"id": None, "name": "", "arguments": ""})
                if d.id:
                    call["id"] = d.id
                if d.function and d.function.name:
                    call["name"] += d.function.name
                if d.function and d.function.arguments:
                    call["arguments"] += d.function.arguments
            if choice.finish_reason:
                finish = choice.finish_reason
    check(list(calls) == [0], f"streamed tool call indexes {list(calls)}")
    call = calls[0]
    check(call["id"], "streamed tool call without id")
    check(call["name"] == "get_weather", f"streamed tool name {call['name']!r}")
    check(call["arguments"] == "{}", f"streamed tool arguments {call['arguments']!r}")
    check(finish == "tool_calls", f"streamed finish_reason {finish!r}")

    # The SDK's accumulator must assemble the same call.
    with client.chat.completions.stream(
        model=CHAT_MODEL, messages=MESSAGES, tools=TOOLS, tool_choice="required"
    ) as s:
        final = s.get_final_completion()
    tc = final.choices[0].message.tool_calls
    check(tc and tc[0].function.name == "get_weather", f"stream helper tool_calls {tc!r}")
    check(tc[0].function.arguments == "{}", f"stream helper arguments {tc[0].function.arguments!r}")
    check(tc[0].id == call["id"], f"stream helper id {tc[0].id!r} != {call['id']!r}")
    ok("tool call (streaming): deltas assembled by hand and by the stream helper")


def check_vector(vec, dims, where):
    check(isinstance(vec, list), f"{where}: embedding is {type(vec).__name__}, not a list")
    check(len(vec) == dims, f"{where}: {len(vec)} dimensions, expected {dims}")
    check(all(isinstance(x, float) for x in vec), f"{where}: not all floats")
    norm = math.sqrt(sum(x * x for x in vec))
    # The mock's vectors are unit vectors: a wrong base64 decoding would not be.
    check(abs(norm - 1.0) < 1e-3, f"{where}: norm {norm}, expected 1 (bad base64 decoding?)")


def embeddings():
    # No encoding_format: the SDK asks for base64 and decodes it.
    r = client.embeddings.create(model=EMBEDDING_MODEL, input="hello world")
    check(r.object == "list", f"object {r.object!r}")
    check(len(r.data) == 1, f"{len(r.data)} embeddings")
    check_vector(r.data[0].embedding, EMBEDDING_DIMS, "default encoding")
    check(r.usage.prompt_tokens > 0, f"embedding usage {r.usage}")
    default = r.data[0].embedding

    r = client.embeddings.create(
        model=EMBEDDING_MODEL, input="hello world", encoding_format="float"
    )
    check_vector(r.data[0].embedding, EMBEDDING_DIMS, "float encoding")
    diff = max(abs(a - b) for a, b in zip(default, r.data[0].embedding))
    check(diff < 1e-6, f"base64 and float embeddings differ by {diff}")

    r = client.embeddings.create(model=EMBEDDING_MODEL, input=["one", "two"], dimensions=8)
    check([d.index for d in r.data] == [0, 1], f"indexes {[d.index for d in r.data]}")
    for d in r.data:
        check_vector(d.embedding, 8, f"input[{d.index}] with dimensions=8")
    ok("embeddings: base64 default decoded, float, batch with dimensions")


def models_list():
    ids = [m.id for m in client.models.list()]
    for name in (CHAT_MODEL, EMBEDDING_MODEL, RATE_LIMITED_MODEL):
        check(name in ids, f"models.list() has no {name!r}: {ids}")
    ok(f"models.list(): {ids}")


def invalid_key():
    bad = openai.OpenAI(base_url=BASE_URL, api_key="sk-wrong", max_retries=0, timeout=30)
    try:
        bad.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES)
    except openai.AuthenticationError as e:
        check(e.status_code == 401, f"status {e.status_code}")
        ok(f"invalid key: AuthenticationError 401 ({e.message})")
        return
    raise CheckFailed("invalid key: no AuthenticationError raised")


def unknown_model():
    try:
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    except openai.BadRequestError as e:
        check(e.status_code == 400, f"status {e.status_code}")
        ok(f"unknown model: BadRequestError 400 ({e.message})")
        return
    raise CheckFailed("unknown model: no BadRequestError raised")


def rate_limited():
    for stream in (False, True):
        try:
            r = client.chat.completions.create(model=RATE_LIMITED_MODEL, messages=MESSAGES, stream=stream)
            if stream:
                list(r)
        except openai.RateLimitError as e:
            check(e.status_code == 429, f"status {e.status_code}")
            retry_after = e.response.headers.get("retry-after")
            check(retry_after is not None, "429 without a retry-after header")
            continue
        raise CheckFailed(f"429 model (stream={stream}): no RateLimitError raised")
    ok("429 model: RateLimitError (non-streaming and streaming), retry-after present")


CHECKS = [
    chat_non_streaming,
    chat_streaming,
    chat_stream_helper,
    tool_call_non_streaming,
    tool_call_streaming,
    embeddings,
    models_list,
    invalid_key,
    unknown_model,
    rate_limited,
]


def main():
    print(f"openai-python {openai.__version__} against {BASE_URL}", flush=True)
    for f in CHECKS:
        try:
            f()
        except CheckFailed as e:
            print(f"FAIL {f.__name__}: {e}", file=sys.stderr)
            sys.exit(1)
        except openai.APIError as e:
            body = getattr(e, "body", None)
            status = getattr(e, "status_code", None)
            print(
                f"FAIL {f.__name__}: {type(e).__name__} status={status} message={e.message!r} body={body!r}",
                file=sys.stderr,
            )
            sys.exit(1)
        except Exception as e:  # noqa: BLE001 - any SDK failure is a test failure
            print(f"FAIL {f.__name__}: {type(e).__name__}: {e}", file=sys.stderr)
            raise
    print(f"all {len(CHECKS)} checks passed", flush=True)


if __name__ == "__main__":
    main()

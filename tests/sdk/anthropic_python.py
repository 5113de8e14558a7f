"""The official Anthropic Python SDK against a running Switchyard gateway.

Run by `cargo test --test it messages::anthropic_python_sdk`
(tests/it/messages.rs), which starts the gateway with the models named below
and sets:

  SWITCHYARD_BASE_URL  e.g. http://127.0.0.1:PORT/v1 (the SDK's base_url is
                       the same without /v1: it adds /v1/messages itself)
  SWITCHYARD_API_KEY   the gateway's master key

The same checks run against a model translated to the built-in mock/
provider (OpenAI dialect), a model passed through natively to a scripted
Anthropic upstream and a model translated to a scripted Gemini upstream.
Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import os
import sys

import anthropic
from sdk_checks import CheckFailed, check, ok, env

# Must match the model_list in tests/it/messages.rs and the texts of
# tests/it/messages/mock.rs and of the Gemini script there. The mock/
# provider answers a forced tool with a call whose arguments are "{}"; the
# native mock with {"city": "Paris"}; the Gemini mock with {"city": "Bern"}.
MODELS = [
    ("claude-via-openai", "Hello from the mock", {}),
    ("claude-native", "Hello from the native mock", {"city": "Paris"}),
    ("claude-via-gemini", "Hello from Gemini", {"city": "Bern"}),
]
RATE_LIMITED_MODEL = "rate-limited"
WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
QUESTION = {"role": "user", "content": "Say hello."}


BASE_URL = env("SWITCHYARD_BASE_URL").rstrip("/")
if BASE_URL.endswith("/v1"):
    BASE_URL = BASE_URL[: -len("/v1")]
API_KEY = env("SWITCHYARD_API_KEY")
client = anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY, max_retries=0, timeout=30)


def check_message(message, model, where):
    check(message.type == "message", f"{where}: type {message.type!r}")
    check(message.role == "assistant", f"{where}: role {message.role!r}")
    check(message.id.startswith("msg_"), f"{where}: id {message.id!r}")
    check(message.usage.output_tokens > 0, f"{where}: output_tokens {message.usage.output_tokens}")
    check(message.usage.input_tokens > 0, f"{where}: input_tokens {message.usage.input_tokens}")


def text_of(message):
    return "".join(b.text for b in message.content if b.type == "text")


def plain(model, text):
    message = client.messages.create(
        model=model,
        max_tokens=64,
        system="Be brief.",
        messages=[QUESTION, {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "Again."}],
    )
    check_message(message, model, f"{model} plain")
    check(text_of(message) == text, f"{model} plain: text {text_of(message)!r}")
    check(message.stop_reason == "end_turn", f"{model} plain: stop_reason {message.stop_reason!r}")
    ok(f"{model}: messages.create")


def streaming(model, text):
    with client.messages.stream(model=model, max_tokens=64, messages=[QUESTION]) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(streamed == text, f"{model} stream: text_stream {streamed!r}")
    check(text_of(final) == text, f"{model} stream: final text {text_of(final)!r}")
    check(final.stop_reason == "end_turn", f"{model} stream: stop_reason {final.stop_reason!r}")
    check(final.usage.output_tokens > 0, f"{model} stream: output_tokens {final.usage.output_tokens}")
    ok(f"{model}: messages.stream text_stream and get_final_message")


def tools(model, text, tool_input):
    forced = {"type": "tool", "name": "get_weather"}
    message = client.messages.create(
        model=model, max_tokens=64, tools=[WEATHER], tool_choice=forced, messages=[QUESTION]
    )
    check_message(message, model, f"{model} tools")
    uses = [b for b in message.content if b.type == "tool_use"]
    check(len(uses) == 1, f"{model} tools: content {message.content!r}")
    check(uses[0].name == "get_weather", f"{model} tools: name {uses[0].name!r}")
    check(uses[0].input == tool_input, f"{model} tools: input {uses[0].input!r}")
    check(message.stop_reason == "tool_use", f"{model} tools: stop_reason {message.stop_reason!r}")
    ok(f"{model}: forced tool_use")

    result = {"type": "tool_result", "tool_use_id": uses[0].id, "content": "sunny"}
    follow_up = client.messages.create(
        model=model,
        max_tokens=64,
        tools=[WEATHER],
        messages=[QUESTION, {"role": "assistant", "content": message.content}, {"role": "user", "content": [result]}],
    )
    check(text_of(follow_up) == text, f"{model} tool_result: text {text_of(follow_up)!r}")
    ok(f"{model}: tool_result answered")

    with client.messages.stream(
        model=model, max_tokens=64, tools=[WEATHER], tool_choice=forced, messages=[QUESTION]
    ) as stream:
        final = stream.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    check(len(uses) == 1 and uses[0].input == tool_input, f"{model} streamed tool: {final.content!r}")
    check(final.stop_reason == "tool_use", f"{model} streamed tool: stop_reason {final.stop_reason!r}")
    ok(f"{model}: streamed tool_use")


def count(model):
    counted = client.messages.count_tokens(model=model, system="Be brief.", messages=[QUESTION], tools=[WEATHER])
    check(counted.input_tokens > 0, f"{model} count_tokens: {counted.input_tokens}")
    ok(f"{model}: count_tokens {counted.input_tokens}")


def errors():
    bad = anthropic.Anthropic(base_url=BASE_URL, api_key="sk-wrong", max_retries=0, timeout=30)
    try:
        bad.messages.create(model=MODELS[0][0], max_tokens=5, messages=[QUESTION])
        raise CheckFailed("a bad key was accepted")
    except anthropic.AuthenticationError as e:
        check(e.status_code == 401, f"bad key: status {e.status_code}")
        check(e.body["error"]["type"] == "authentication_error", f"bad key: body {e.body!r}")
    ok("bad key raises AuthenticationError")
    try:
        client.messages.create(model="no-such-model", max_tokens=5, messages=[QUESTION])
        raise CheckFailed("an unknown model was accepted")
    except anthropic.BadRequestError as e:
        check(e.body["error"]["type"] == "invalid_request_error", f"unknown model: body {e.body!r}")
    ok("unknown model raises BadRequestError")
    try:
        client.messages.create(model=RATE_LIMITED_MODEL, max_tokens=5, messages=[QUESTION])
        raise CheckFailed("the rate-limited model answered")
    except anthropic.RateLimitError as e:
        check(e.response.headers.get("retry-after") == "1", f"rate limit: headers {dict(e.response.headers)!r}")
    ok("upstream 429 raises RateLimitError with retry-after")


def main():
    try:
        for model, text, tool_input in MODELS:
            plain(model, text)
            streaming(model, text)
            tools(model, text, tool_input)
            count(model)
        errors()
    except CheckFailed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"anthropic {anthropic.__version__}: all checks passed")


main()

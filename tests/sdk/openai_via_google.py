"""The official OpenAI Python SDK against Switchyard's gemini/ and vertex_ai/
deployments, whose upstreams are the strict Google mocks of tests/it.

Run by `cargo test --test it gemini` (tests/it/gemini/sdk.rs), which starts
the mocks and the gateway, sets SWITCHYARD_BASE_URL and SWITCHYARD_API_KEY,
and afterwards asserts what the mocks received for the requests below (found
by their texts, which must match tests/it/gemini/sdk.rs).

The mocks answer as `brain` in tests/it/gemini/sdk.rs does: "It is <sky>
in <city>." per tool result sent back; else a get_weather call when tools
are given; else JSON when a JSON response is asked for; else a description
of the images in the last turn; else a greeting. Text comes one part (and,
for the usage, one token) per word, cut off at maxOutputTokens (then
finishReason MAX_TOKENS); there is one candidate per candidateCount, each
with a thought first when thoughts are asked for. A marker "[scenario:NAME]" in a
user message picks another answer: echo (the roles and system instruction
received), parallel (text and two calls), filtered (finishReason SAFETY),
cached (cached prompt tokens), rate_limit (429 RESOURCE_EXHAUSTED),
overloaded (503 UNAVAILABLE), invalid (400 INVALID_ARGUMENT), safety (the
prompt blocked: promptFeedback.blockReason, no candidates).

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import json
import os
import sys

import openai
import pydantic

# Must match tests/it/gemini/sdk.rs.
CHAT_MODELS = ["gemini-chat", "vertex-chat"]
EMBEDDING_MODELS = ["gemini-embed", "vertex-embed"]
GREETING = "Hello from Gemini"
THOUGHT = "Thinking it over."
JSON_ANSWER = {"city": "Paris", "temperature_c": 21}
BLOCK_MESSAGE = "The prompt was blocked by Gemini (blockReason SAFETY)."
# A 1x1 PNG.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

# The requests' texts; tests/it/gemini/sdk.rs finds the requests by them.
CHAT = "Hi"
STREAM = "Hi, stream please"
SYSTEM = "Be brief."
ECHO = "[scenario:echo] What is my name?"
QUESTION = "Weather in Paris?"
STREAM_QUESTION = "Weather in Paris? Stream it."
PARALLEL = "[scenario:parallel] Weather in Paris and Bern?"
IMAGE = "What is in this image?"
JSON_SCHEMA = "Weather as JSON, with a schema."
JSON_PARSE = "Weather as JSON, parsed."
JSON_OBJECT = "Weather as JSON, any object."
PARAMS = "Two answers, carefully."
PARAMS_ALT = "One answer, briefly."
LENGTH = "Greet me at length."
FILTERED = "[scenario:filtered] Something unsafe."
CACHED = "[scenario:cached] Hi again."
RATE_LIMIT = "[scenario:rate_limit] Hi"
OVERLOADED = "[scenario:overloaded] Hi"
INVALID = "[scenario:invalid] Hi"
SAFETY = "[scenario:safety] Something unsafe."

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
                "additionalProperties": False,
            },
        },
    }
]
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city."},
        "temperature_c": {"type": "integer"},
    },
    "required": ["city", "temperature_c"],
    "additionalProperties": False,
}
SKIES = {"Paris": "sunny", "Bern": "rainy"}


class Weather(pydantic.BaseModel):
    city: str
    temperature_c: int


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


def check_usage(usage, where, prompt, completion, cached=0, reasoning=0):
    check(usage is not None, f"{where}: no usage")
    got = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    check(got == (prompt, completion, prompt + completion), f"{where}: usage {usage}")
    details = usage.prompt_tokens_details
    check(details is not None and details.cached_tokens == cached, f"{where}: prompt details {details}")
    details = usage.completion_tokens_details
    check(details is not None and details.reasoning_tokens == reasoning, f"{where}: completion details {details}")


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
        if status is not None:
            check(e.status_code == status, f"{where}: status {e.status_code}")
        return e
    except openai.OpenAIError as e:
        check(False, f"{where}: expected {kind.__name__}, got {type(e).__name__}: {e}")
    check(False, f"{where}: expected {kind.__name__}, got an answer")


# --- chat, multi-turn, streaming ----------------------------------------------


def chat(model):
    r = client.chat.completions.create(model=model, messages=ask(CHAT))
    check(r.object == "chat.completion", f"{model}: object {r.object}")
    check(r.id.startswith("chatcmpl-"), f"{model}: id {r.id}")
    check(r.model == "gemini-2.5-flash", f"{model}: model {r.model}")
    choice = r.choices[0]
    check(choice.message.role == "assistant", f"{model}: role {choice.message.role}")
    check(choice.message.content == GREETING, f"{model}: {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"{model}: tool calls {choice.message.tool_calls}")
    check(choice.finish_reason == "stop", f"{model}: finish {choice.finish_reason}")
    check_usage(r.usage, model, 6, 3)
    ok(f"{model}: chat (content, finish_reason stop, usage)")


def system_and_multi_turn(model):
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada!"},
        {"role": "user", "content": [{"type": "text", "text": ECHO}]},
    ]
    r = client.chat.completions.create(model=model, messages=messages)
    # The mock echoes the roles of the turns and the system instruction it got.
    content = r.choices[0].message.content
    check(content == f"roles=user,model,user; system={SYSTEM}", f"{model}: echo {content!r}")
    ok(f"{model}: system + multi-turn (systemInstruction, roles user/model)")


def stream(model):
    chunks, text, calls, finish, usage = collect(
        client.chat.completions.create(
            model=model, messages=ask(STREAM), stream=True, stream_options={"include_usage": True}
        )
    )
    check(chunks[0].choices[0].delta.role == "assistant", f"{model}: first delta {chunks[0].choices[0].delta}")
    check(text == GREETING, f"{model}: streamed {text!r}")
    check(calls == {}, f"{model}: streamed calls {calls}")
    check(finish == "stop", f"{model}: streamed finish {finish}")
    for i, chunk in enumerate(chunks[:-1]):
        check(chunk.usage is None, f"{model}: usage in chunk {i}")
    check(chunks[-1].choices == [], f"{model}: the usage chunk has choices")
    check_usage(usage, f"{model} stream", 6, 3)

    with client.chat.completions.stream(model=model, messages=ask(STREAM)) as s:
        final = s.get_final_completion()
    check(final.choices[0].message.content == GREETING, f"{model}: stream helper {final.choices[0].message}")
    check(final.choices[0].finish_reason == "stop", f"{model}: stream helper finish {final.choices[0].finish_reason}")
    ok(f"{model}: streaming text ({len(chunks)} chunks) with a usage chunk, stream helper")


# --- tools ----------------------------------------------------------------------


def tool_round_trip(model):
    r = client.chat.completions.create(model=model, messages=ask(QUESTION), tools=TOOLS, tool_choice="required")
    message = r.choices[0].message
    check(r.choices[0].finish_reason == "tool_calls", f"{model}: finish {r.choices[0].finish_reason}")
    check(message.content is None, f"{model}: content {message.content!r}")
    check(message.tool_calls and len(message.tool_calls) == 1, f"{model}: tool calls {message.tool_calls}")
    call = message.tool_calls[0]
    check(call.type == "function", f"{model}: type {call.type}")
    check(call.function.name == "get_weather", f"{model}: name {call.function.name}")
    check(json.loads(call.function.arguments) == {"city": "Paris"}, f"{model}: args {call.function.arguments}")
    check(call.id.startswith("call_"), f"{model}: id {call.id}")
    check_usage(r.usage, f"{model} tool call", 6, 1)
    # The assistant message goes back as the SDK returned it, then the result.
    messages = ask(QUESTION) + [
        message,
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"city": "Paris", "sky": "sunny"})},
    ]
    r = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    choice = r.choices[0]
    check(choice.message.content == "It is sunny in Paris.", f"{model}: after tool {choice.message.content!r}")
    check(choice.message.tool_calls is None, f"{model}: after tool calls {choice.message.tool_calls}")
    check(choice.finish_reason == "stop", f"{model}: after tool finish {choice.finish_reason}")
    ok(f"{model}: tools round trip (call, finish_reason tool_calls, result sent back, final answer)")


def streamed_tool_calls(model):
    named = {"type": "function", "function": {"name": "get_weather"}}
    _, text, calls, finish, _ = collect(
        client.chat.completions.create(
            model=model, messages=ask(STREAM_QUESTION), tools=TOOLS, tool_choice=named, stream=True
        )
    )
    check(text == "", f"{model}: streamed text {text!r}")
    check(list(calls) == [0], f"{model}: streamed calls {calls}")
    check(calls[0]["id"] and calls[0]["id"].startswith("call_"), f"{model}: streamed call {calls}")
    check(calls[0]["name"] == "get_weather", f"{model}: streamed call {calls}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Paris"}, f"{model}: streamed call {calls}")
    check(finish == "tool_calls", f"{model}: streamed finish {finish}")

    # Text, then two parallel calls; both results go back in one user turn.
    chunks, text, calls, finish, usage = collect(
        client.chat.completions.create(
            model=model,
            messages=ask(PARALLEL),
            tools=TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    check(text == "Checking both.", f"{model}: parallel text {text!r}")
    check(sorted(calls) == [0, 1], f"{model}: parallel calls {calls}")
    cities = [json.loads(calls[i]["arguments"])["city"] for i in (0, 1)]
    check(cities == ["Paris", "Bern"], f"{model}: parallel calls {calls}")
    check(calls[0]["id"] != calls[1]["id"], f"{model}: parallel ids {calls}")
    check(finish == "tool_calls", f"{model}: parallel finish {finish}")
    check_usage(usage, f"{model} parallel stream", 6, 3)
    assistant = {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in (calls[0], calls[1])
        ],
    }
    results = [
        {"role": "tool", "tool_call_id": calls[i]["id"], "content": json.dumps({"city": city, "sky": SKIES[city]})}
        for i, city in enumerate(cities)
    ]
    _, text, calls, finish, _ = collect(
        client.chat.completions.create(
            model=model, messages=ask(PARALLEL) + [assistant] + results, tools=TOOLS, stream=True
        )
    )
    check(text == "It is sunny in Paris. It is rainy in Bern.", f"{model}: after parallel {text!r}")
    check(calls == {} and finish == "stop", f"{model}: after parallel {calls} {finish}")
    ok(f"{model}: streamed tool-call deltas (named tool_choice; text + two parallel calls, both results sent back)")


# --- images, JSON -----------------------------------------------------------------


def image(model):
    content = [
        {"type": "text", "text": IMAGE},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
    ]
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    # The mock describes the media it received.
    got = r.choices[0].message.content
    check(got == f"image/png inline ({len(PNG)} base64 chars)", f"{model}: image {got!r}")
    ok(f"{model}: image part (data URL) as inlineData")


def json_mode(model):
    fmt = {"type": "json_schema", "json_schema": {"name": "weather", "strict": True, "schema": WEATHER_SCHEMA}}
    r = client.chat.completions.create(model=model, messages=ask(JSON_SCHEMA), response_format=fmt)
    check(r.choices[0].finish_reason == "stop", f"{model}: json finish {r.choices[0].finish_reason}")
    check(json.loads(r.choices[0].message.content) == JSON_ANSWER, f"{model}: json {r.choices[0].message.content!r}")

    _, text, _, finish, _ = collect(
        client.chat.completions.create(model=model, messages=ask(JSON_SCHEMA), response_format=fmt, stream=True)
    )
    check(json.loads(text) == JSON_ANSWER and finish == "stop", f"{model}: streamed json {text!r} {finish}")

    parsed = client.chat.completions.parse(model=model, messages=ask(JSON_PARSE), response_format=Weather)
    check(parsed.choices[0].message.parsed == Weather(**JSON_ANSWER), f"{model}: parsed {parsed.choices[0].message}")

    r = client.chat.completions.create(
        model=model, messages=ask(JSON_OBJECT), response_format={"type": "json_object"}
    )
    check(json.loads(r.choices[0].message.content) == JSON_ANSWER, f"{model}: json_object {r.choices[0].message}")
    ok(f"{model}: JSON mode (json_schema plain and streamed, parse() into pydantic, json_object)")


# --- parameters, stop reasons, usage --------------------------------------------------


def parameters(model):
    r = client.chat.completions.create(
        model=model,
        messages=ask(PARAMS),
        temperature=0.3,
        top_p=0.8,
        stop=["END", "DONE"],
        max_tokens=64,
        n=2,
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        reasoning_effort="low",
        extra_body={"top_k": 20},
    )
    check(len(r.choices) == 2, f"{model}: {len(r.choices)} choices")
    for i, choice in enumerate(r.choices):
        want = GREETING if i == 0 else f"{GREETING} #{i}"
        check(choice.index == i and choice.message.content == want, f"{model}: choice {i} {choice}")
        check(choice.finish_reason == "stop", f"{model}: choice {i} finish {choice.finish_reason}")
        reasoning = (choice.message.model_extra or {}).get("reasoning_content")
        check(reasoning == THOUGHT, f"{model}: choice {i} reasoning {reasoning!r}")
    # The mock counts a part as a token: 3 + 4 words, and a thought each.
    check_usage(r.usage, f"{model} params", 6, 9, reasoning=2)

    r = client.chat.completions.create(
        model=model, messages=ask(PARAMS_ALT), max_completion_tokens=32, stop="END", reasoning_effort="none"
    )
    check(r.choices[0].message.content == GREETING, f"{model}: {r.choices[0].message}")
    ok(f"{model}: parameters (temperature, top_p, top_k, stop, max_tokens, n, seed, penalties, reasoning_effort)")


def stop_reasons(model):
    # STOP -> stop and a function call -> tool_calls are checked above.
    r = client.chat.completions.create(model=model, messages=ask(LENGTH), max_tokens=2)
    choice = r.choices[0]
    check(choice.finish_reason == "length", f"{model}: MAX_TOKENS finish {choice.finish_reason}")
    check(choice.message.content == "Hello from ", f"{model}: MAX_TOKENS content {choice.message.content!r}")
    _, text, _, finish, _ = collect(
        client.chat.completions.create(model=model, messages=ask(LENGTH), max_tokens=2, stream=True)
    )
    check((text, finish) == ("Hello from ", "length"), f"{model}: streamed MAX_TOKENS {text!r} {finish}")
    expect_error(
        openai.LengthFinishReasonError,
        None,
        lambda: client.chat.completions.parse(
            model=model, messages=ask(LENGTH), max_tokens=2, response_format=Weather
        ),
        f"{model} parse at MAX_TOKENS",
    )

    r = client.chat.completions.create(model=model, messages=ask(FILTERED))
    choice = r.choices[0]
    check(choice.finish_reason == "content_filter", f"{model}: SAFETY finish {choice.finish_reason}")
    check(choice.message.content is None, f"{model}: SAFETY content {choice.message.content!r}")
    _, text, _, finish, _ = collect(client.chat.completions.create(model=model, messages=ask(FILTERED), stream=True))
    check((text, finish) == ("", "content_filter"), f"{model}: streamed SAFETY {text!r} {finish}")
    expect_error(
        openai.ContentFilterFinishReasonError,
        None,
        lambda: client.chat.completions.parse(model=model, messages=ask(FILTERED), response_format=Weather),
        f"{model} parse at SAFETY",
    )
    ok(f"{model}: stop reasons (STOP -> stop, function call -> tool_calls, MAX_TOKENS -> length, SAFETY -> content_filter)")


def cached_usage(model):
    r = client.chat.completions.create(model=model, messages=ask(CACHED))
    check(r.choices[0].message.content == GREETING, f"{model}: cached {r.choices[0].message}")
    check_usage(r.usage, f"{model} cached", 1200, 3, cached=1024)
    _, text, _, _, usage = collect(
        client.chat.completions.create(
            model=model, messages=ask(CACHED), stream=True, stream_options={"include_usage": True}
        )
    )
    check(text == GREETING, f"{model}: cached stream {text!r}")
    check_usage(usage, f"{model} cached stream", 1200, 3, cached=1024)
    ok(f"{model}: usage with cachedContentTokenCount -> prompt_tokens_details.cached_tokens (plain and streamed)")


# --- errors ---------------------------------------------------------------------


def errors(model):
    def plain(text):
        return lambda: client.chat.completions.create(model=model, messages=ask(text))

    def streamed(text):
        return lambda: list(client.chat.completions.create(model=model, messages=ask(text), stream=True))

    for how, send in (("plain", plain), ("streamed", streamed)):
        where = f"{model} {how}"
        e = expect_error(openai.RateLimitError, 429, send(RATE_LIMIT), f"{where} 429")
        check(e.type == "rate_limit_error" and e.code == "RESOURCE_EXHAUSTED", f"{where} 429: {e.type} {e.code}")
        # RetryInfo's retryDelay 1.5s, rounded up.
        check(e.response.headers.get("retry-after") == "2", f"{where} 429: headers {e.response.headers}")

        # Google has no 529 (Anthropic's "overloaded"): its overload is 503 UNAVAILABLE.
        e = expect_error(openai.InternalServerError, 503, send(OVERLOADED), f"{where} 503")
        check(isinstance(e, openai.APIStatusError), f"{where} 503: {type(e)}")
        check(e.type == "overloaded_error" and e.code == "UNAVAILABLE", f"{where} 503: {e.type} {e.code}")

        e = expect_error(openai.BadRequestError, 400, send(INVALID), f"{where} 400")
        check(e.type == "invalid_request_error" and e.code == "INVALID_ARGUMENT", f"{where} 400: {e.type} {e.code}")
        check(e.body["message"] == "Request contains an invalid argument.", f"{where} 400: {e.body}")

    e = expect_error(openai.BadRequestError, 400, plain(SAFETY), f"{model} safety block")
    check(e.code == "content_filter", f"{model} safety block: code {e.code}")
    check(e.body["message"] == BLOCK_MESSAGE, f"{model} safety block: {e.body}")
    # Streamed, the block comes in the first event, after the 200 head: the
    # gateway ends the stream with an error event, which the SDK raises as
    # an APIError (no status) carrying the same code.
    e = expect_error(openai.APIError, None, streamed(SAFETY), f"{model} streamed safety block")
    check(not isinstance(e, openai.APIStatusError), f"{model} streamed safety block: {type(e)}")
    check(e.code == "content_filter", f"{model} streamed safety block: code {e.code}")
    ok(
        f"{model}: errors (429 RESOURCE_EXHAUSTED -> RateLimitError + retry-after, 503 UNAVAILABLE -> "
        "InternalServerError, 400 INVALID_ARGUMENT -> BadRequestError, plain and streamed; prompt "
        "blockReason -> BadRequestError code content_filter)"
    )


# --- embeddings -------------------------------------------------------------------


def embeddings(model):
    default = client.embeddings.create(model=model, input=["a", "bb"])  # the SDK asks for base64
    floats = client.embeddings.create(model=model, input=["a", "bb"], encoding_format="float")
    expected = [i / 8 for i in range(8)]
    for r in (default, floats):
        check(len(r.data) == 2, f"{model}: {len(r.data)} embeddings")
        for item in r.data:
            check(item.embedding == expected, f"{model}: embedding {item.embedding}")
    small = client.embeddings.create(model=model, input="a", dimensions=4)
    check(small.data[0].embedding == expected[:4], f"{model}: dimensions {small.data[0].embedding}")
    ok(f"{model}: embeddings (base64 and float, dimensions)")


def main():
    for model in CHAT_MODELS:
        chat(model)
        system_and_multi_turn(model)
        stream(model)
        tool_round_trip(model)
        streamed_tool_calls(model)
        image(model)
        json_mode(model)
        parameters(model)
        stop_reasons(model)
        cached_usage(model)
        errors(model)
    for model in EMBEDDING_MODELS:
        embeddings(model)
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.chat.completions.create(model="no-such-model", messages=ask("x")),
        "unknown model",
    )
    ok("unknown model: BadRequestError")


if __name__ == "__main__":
    main()

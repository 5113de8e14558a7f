"""The official OpenAI Python SDK against Switchyard's gemini/ and vertex_ai/
deployments, whose upstreams are the Google mocks of tests/it (see
tests/it/gemini/sdk.rs, which starts everything and sets SWITCHYARD_BASE_URL
and SWITCHYARD_API_KEY).

Prints one "ok" line per check; exits non-zero at the first failed one.
"""

import json
import os
import sys

import openai

# Must match tests/it/gemini/sdk.rs.
CHAT_MODELS = ["gemini-chat", "vertex-chat"]
EMBEDDING_MODELS = ["gemini-embed", "vertex-embed"]
GREETING = "Hello from Gemini"
TOOL_ANSWER = "It is sunny in Paris."
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
QUESTION = [{"role": "user", "content": "Weather in Paris?"}]


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


def check_usage(usage, where):
    check(usage is not None, f"{where}: no usage")
    check(usage.prompt_tokens == 6, f"{where}: prompt_tokens {usage.prompt_tokens}")
    check(usage.completion_tokens == 3, f"{where}: completion_tokens {usage.completion_tokens}")
    check(usage.total_tokens == 9, f"{where}: total_tokens {usage.total_tokens}")


def chat(model):
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    check(r.object == "chat.completion", f"{model}: object {r.object}")
    check(r.choices[0].message.content == GREETING, f"{model}: {r.choices[0].message.content!r}")
    check(r.choices[0].finish_reason == "stop", f"{model}: finish {r.choices[0].finish_reason}")
    check_usage(r.usage, model)
    ok(f"{model}: chat")


def stream(model):
    text, usage, finish = "", None, None
    for chunk in client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    check(text == GREETING, f"{model}: streamed {text!r}")
    check(finish == "stop", f"{model}: streamed finish {finish}")
    check_usage(usage, f"{model} stream")
    ok(f"{model}: streaming with usage")


def tools(model):
    r = client.chat.completions.create(model=model, messages=QUESTION, tools=TOOLS, tool_choice="required")
    message = r.choices[0].message
    check(r.choices[0].finish_reason == "tool_calls", f"{model}: finish {r.choices[0].finish_reason}")
    check(message.tool_calls and len(message.tool_calls) == 1, f"{model}: tool calls {message.tool_calls}")
    call = message.tool_calls[0]
    check(call.function.name == "get_weather", f"{model}: name {call.function.name}")
    check(json.loads(call.function.arguments) == {"city": "Paris"}, f"{model}: args {call.function.arguments}")
    check(call.id.startswith("call_"), f"{model}: id {call.id}")
    messages = QUESTION + [
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"sky": "sunny"})},
    ]
    r = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    check(r.choices[0].message.content == TOOL_ANSWER, f"{model}: after tool {r.choices[0].message.content!r}")
    ok(f"{model}: tool call round trip")

    calls = {}
    for chunk in client.chat.completions.create(model=model, messages=QUESTION, tools=TOOLS, stream=True):
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                entry = calls.setdefault(delta.index, {"id": delta.id, "name": "", "arguments": ""})
                entry["name"] += delta.function.name or ""
                entry["arguments"] += delta.function.arguments or ""
    check(len(calls) == 1, f"{model}: streamed calls {calls}")
    check(calls[0]["name"] == "get_weather", f"{model}: streamed call {calls}")
    check(json.loads(calls[0]["arguments"]) == {"city": "Paris"}, f"{model}: streamed call {calls}")
    ok(f"{model}: streamed tool call")


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
        stream(model)
        tools(model)
    for model in EMBEDDING_MODELS:
        embeddings(model)
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
        check(False, "an unknown model must fail")
    except openai.BadRequestError:
        ok("unknown model: BadRequestError")


if __name__ == "__main__":
    main()

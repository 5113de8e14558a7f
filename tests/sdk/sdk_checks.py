"""Helpers the SDK scripts share: checks that stop a script at the first
failure with a clear message, its environment, and reading streams."""

import os
import sys


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


def ask(scenario, text):
    return [{"role": "user", "content": f"[scenario:{scenario}] {text}"}]


def collect(stream):
    """A chat completion stream as (chunks, role, text, tool calls, finish_reason)."""
    chunks = list(stream)
    role, text, finish, calls = None, "", None, {}
    for i, c in enumerate(chunks):
        check(c.object == "chat.completion.chunk", f"chunk {i}: object {c.object!r}")
        check(c.id == chunks[0].id, f"chunk {i}: id changed")
        for choice in c.choices:
            role = choice.delta.role or role
            text += choice.delta.content or ""
            for d in choice.delta.tool_calls or []:
                call = calls.setdefault(d.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = d.id or call["id"]
                if d.function:
                    call["name"] += d.function.name or ""
                    call["arguments"] += d.function.arguments or ""
            finish = choice.finish_reason or finish
    return chunks, role, text, calls, finish

// The official OpenAI Node SDK against a running Switchyard gateway.
//
// Run by `cargo test --test it sdk` (tests/it/sdk.rs), which starts the
// gateway with the mock models named below and sets:
//
//   SWITCHYARD_BASE_URL        e.g. http://127.0.0.1:PORT/v1
//   SWITCHYARD_API_KEY         the gateway's master key
//   SWITCHYARD_OPENAI_NODE_DIR where scripts/install-sdks.sh installed the
//                              SDK (holds node_modules/openai); defaults to
//                              target/sdk/node in this repository
//
// Prints one "ok" line per check; exits non-zero at the first failed one.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Must match the model_list in tests/it/sdk.rs.
const CHAT_MODEL = 'gpt-4o';
const EXPECTED_TEXT = 'Hello from the mock';
const EMBEDDING_MODEL = 'text-embedding-3-small';
const EMBEDDING_DIMS = 16; // the mock's default when the request sets no `dimensions`
const RATE_LIMITED_MODEL = 'rate-limited';
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      },
    },
  },
];
const MESSAGES = [{ role: 'user', content: 'Say hello.' }];

class CheckFailed extends Error {}

function check(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

function ok(name) {
  console.log(`ok - ${name}`);
}

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`FAIL: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

// ESM ignores NODE_PATH, so the SDK is loaded from its install directory
// explicitly: require() resolved from that directory's package.json.
const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = process.env.SWITCHYARD_OPENAI_NODE_DIR || path.join(here, '..', '..', 'target', 'sdk', 'node');
const require = createRequire(path.join(path.resolve(sdkDir), 'package.json'));
const openaiModule = require('openai');
const OpenAI = openaiModule.OpenAI;
const { AuthenticationError, BadRequestError, RateLimitError, APIError } = openaiModule;
const sdkVersion = JSON.parse(readFileSync(path.join(path.dirname(require.resolve('openai')), 'package.json'), 'utf8')).version;

const BASE_URL = env('SWITCHYARD_BASE_URL');
const API_KEY = env('SWITCHYARD_API_KEY');
const client = new OpenAI({ baseURL: BASE_URL, apiKey: API_KEY, maxRetries: 0, timeout: 30_000 });

const words = (s) => s.split(/\s+/).filter(Boolean).length;

function checkUsage(usage, completionText, where) {
  check(usage, `${where}: no usage`);
  check(usage.prompt_tokens > 0, `${where}: prompt_tokens ${usage.prompt_tokens} <= 0`);
  const n = words(completionText);
  check(
    usage.completion_tokens === n,
    `${where}: completion_tokens ${usage.completion_tokens} != ${n} (words in the answer)`,
  );
  check(
    usage.total_tokens === usage.prompt_tokens + usage.completion_tokens,
    `${where}: total_tokens ${usage.total_tokens} != prompt + completion`,
  );
}

async function chatNonStreaming() {
  const r = await client.chat.completions.create({ model: CHAT_MODEL, messages: MESSAGES });
  check(r.object === 'chat.completion', `object is ${JSON.stringify(r.object)}`);
  check(r.id, 'empty id');
  check(r.choices.length === 1, `${r.choices.length} choices`);
  const choice = r.choices[0];
  check(choice.message.role === 'assistant', `role ${JSON.stringify(choice.message.role)}`);
  check(
    choice.message.content === EXPECTED_TEXT,
    `content ${JSON.stringify(choice.message.content)} != ${JSON.stringify(EXPECTED_TEXT)}`,
  );
  check(choice.finish_reason === 'stop', `finish_reason ${JSON.stringify(choice.finish_reason)}`);
  checkUsage(r.usage, EXPECTED_TEXT, 'non-streaming chat');
  ok('chat completion (non-streaming): content and usage');
}

async function chatStreaming() {
  const stream = await client.chat.completions.create({
    model: CHAT_MODEL,
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  check(chunks.length >= 3, `only ${chunks.length} chunks`);
  let text = '';
  let role = null;
  let finish = null;
  chunks.forEach((c, i) => {
    check(c.object === 'chat.completion.chunk', `chunk ${i}: object ${JSON.stringify(c.object)}`);
    check(c.id === chunks[0].id, `chunk ${i}: id ${c.id} != ${chunks[0].id}`);
    for (const choice of c.choices) {
      check(choice.index === 0, `chunk ${i}: choice index ${choice.index}`);
      if (choice.delta.role) role = choice.delta.role;
      if (choice.delta.content) {
        check(finish === null, `chunk ${i}: content after finish_reason`);
        text += choice.delta.content;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (i < chunks.length - 1) {
      check(c.usage == null, `chunk ${i}: usage before the last chunk: ${JSON.stringify(c.usage)}`);
    }
  });
  check(role === 'assistant', `streamed role ${JSON.stringify(role)}`);
  check(text === EXPECTED_TEXT, `streamed text ${JSON.stringify(text)} != ${JSON.stringify(EXPECTED_TEXT)}`);
  check(finish === 'stop', `streamed finish_reason ${JSON.stringify(finish)}`);
  const last = chunks[chunks.length - 1];
  check(Array.isArray(last.choices) && last.choices.length === 0, `last chunk has choices: ${JSON.stringify(last.choices)}`);
  checkUsage(last.usage, EXPECTED_TEXT, 'streamed usage chunk');
  ok(`chat completion (streaming, ${chunks.length} chunks): text, finish_reason, usage chunk`);
}

async function chatStreamHelper() {
  // The SDK's own accumulator (client.chat.completions.stream) must rebuild
  // the same completion from the chunks.
  const stream = client.chat.completions.stream({
    model: CHAT_MODEL,
    messages: MESSAGES,
    stream_options: { include_usage: true },
  });
  let deltas = '';
  stream.on('content', (delta) => {
    deltas += delta;
  });
  const final = await stream.finalChatCompletion();
  check(deltas === EXPECTED_TEXT, `content events ${JSON.stringify(deltas)}`);
  check(
    final.choices[0].message.content === EXPECTED_TEXT,
    `final completion content ${JSON.stringify(final.choices[0].message.content)}`,
  );
  check(final.choices[0].finish_reason === 'stop', `final finish_reason ${JSON.stringify(final.choices[0].finish_reason)}`);
  checkUsage(final.usage, EXPECTED_TEXT, 'stream helper final completion');
  ok('chat.completions.stream helper: final completion');
}

async function toolCallNonStreaming() {
  for (const toolChoice of ['required', { type: 'function', function: { name: 'get_weather' } }]) {
    const label = `tool_choice=${JSON.stringify(toolChoice)}`;
    const r = await client.chat.completions.create({
      model: CHAT_MODEL,
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: toolChoice,
    });
    const choice = r.choices[0];
    check(choice.finish_reason === 'tool_calls', `${label}: finish_reason ${JSON.stringify(choice.finish_reason)}`);
    const calls = choice.message.tool_calls;
    check(calls && calls.length === 1, `${label}: tool_calls ${JSON.stringify(calls)}`);
    const call = calls[0];
    check(call.type === 'function', `tool call type ${JSON.stringify(call.type)}`);
    check(call.id, 'tool call without id');
    check(call.function.name === 'get_weather', `tool name ${JSON.stringify(call.function.name)}`);
    check(call.function.arguments === '{}', `tool arguments ${JSON.stringify(call.function.arguments)}`);
  }
  ok('tool call (non-streaming): tool_choice required and named function');
}

async function toolCallStreaming() {
  const stream = await client.chat.completions.create({
    model: CHAT_MODEL,
    messages: MESSAGES,
    tools: TOOLS,
    tool_choice: 'required',
    stream: true,
  });
  const calls = new Map();
  let finish = null;
  for await (const c of stream) {
    for (const choice of c.choices) {
      for (const d of choice.delta.tool_calls ?? []) {
        if (!calls.has(d.index)) calls.set(d.index, { id: null, name: '', arguments: '' });
        const call = calls.get(d.index);
        if (d.id) call.id = d.id;
        if (d.function?.name) call.name += d.function.name;
        if (d.function?.arguments) call.arguments += d.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  check(JSON.stringify([...calls.keys()]) === '[0]', `streamed tool call indexes ${JSON.stringify([...calls.keys()])}`);
  const call = calls.get(0);
  check(call.id, 'streamed tool call without id');
  check(call.name === 'get_weather', `streamed tool name ${JSON.stringify(call.name)}`);
  check(call.arguments === '{}', `streamed tool arguments ${JSON.stringify(call.arguments)}`);
  check(finish === 'tool_calls', `streamed finish_reason ${JSON.stringify(finish)}`);

  // The SDK's accumulator must assemble the same call.
  const final = await client.chat.completions
    .stream({ model: CHAT_MODEL, messages: MESSAGES, tools: TOOLS, tool_choice: 'required' })
    .finalChatCompletion();
  const tc = final.choices[0].message.tool_calls;
  check(tc && tc[0].function.name === 'get_weather', `stream helper tool_calls ${JSON.stringify(tc)}`);
  check(tc[0].function.arguments === '{}', `stream helper arguments ${JSON.stringify(tc[0].function.arguments)}`);
  check(tc[0].id === call.id, `stream helper id ${tc[0].id} != ${call.id}`);
  ok('tool call (streaming): deltas assembled by hand and by the stream helper');
}

function checkVector(vec, dims, where) {
  check(Array.isArray(vec), `${where}: embedding is ${typeof vec}, not an array`);
  check(vec.length === dims, `${where}: ${vec.length} dimensions, expected ${dims}`);
  check(vec.every((x) => typeof x === 'number' && Number.isFinite(x)), `${where}: not all finite numbers`);
  const norm = Math.sqrt(vec.reduce((s, x) => s + x * x, 0));
  // The mock's vectors are unit vectors: a wrong base64 decoding would not be.
  check(Math.abs(norm - 1) < 1e-3, `${where}: norm ${norm}, expected 1 (bad base64 decoding?)`);
}

async function embeddings() {
  // No encoding_format: the SDK asks for base64 and decodes it.
  let r = await client.embeddings.create({ model: EMBEDDING_MODEL, input: 'hello world' });
  check(r.object === 'list', `object ${JSON.stringify(r.object)}`);
  check(r.data.length === 1, `${r.data.length} embeddings`);
  checkVector(r.data[0].embedding, EMBEDDING_DIMS, 'default encoding');
  check(r.usage.prompt_tokens > 0, `embedding usage ${JSON.stringify(r.usage)}`);
  const byDefault = r.data[0].embedding;

  r = await client.embeddings.create({ model: EMBEDDING_MODEL, input: 'hello world', encoding_format: 'float' });
  checkVector(r.data[0].embedding, EMBEDDING_DIMS, 'float encoding');
  const diff = Math.max(...byDefault.map((x, i) => Math.abs(x - r.data[0].embedding[i])));
  check(diff < 1e-6, `base64 and float embeddings differ by ${diff}`);

  r = await client.embeddings.create({ model: EMBEDDING_MODEL, input: ['one', 'two'], dimensions: 8 });
  check(JSON.stringify(r.data.map((d) => d.index)) === '[0,1]', `indexes ${JSON.stringify(r.data.map((d) => d.index))}`);
  for (const d of r.data) checkVector(d.embedding, 8, `input[${d.index}] with dimensions=8`);
  ok('embeddings: base64 default decoded, float, batch with dimensions');
}

async function modelsList() {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  for (const name of [CHAT_MODEL, EMBEDDING_MODEL, RATE_LIMITED_MODEL]) {
    check(ids.includes(name), `models.list() has no ${JSON.stringify(name)}: ${JSON.stringify(ids)}`);
  }
  ok(`models.list(): ${JSON.stringify(ids)}`);
}

// Runs `f` and returns the error it throws, or fails the check.
async function expectError(f, cls, status, what) {
  try {
    await f();
  } catch (e) {
    check(
      e instanceof cls,
      `${what}: expected ${cls.name}, got ${e?.constructor?.name}: status=${e?.status} ${e?.message}`,
    );
    check(e.status === status, `${what}: status ${e.status}, expected ${status}`);
    return e;
  }
  throw new CheckFailed(`${what}: no ${cls.name} thrown`);
}

async function invalidKey() {
  const bad = new OpenAI({ baseURL: BASE_URL, apiKey: 'sk-wrong', maxRetries: 0, timeout: 30_000 });
  const e = await expectError(
    () => bad.chat.completions.create({ model: CHAT_MODEL, messages: MESSAGES }),
    AuthenticationError,
    401,
    'invalid key',
  );
  ok(`invalid key: AuthenticationError 401 (${e.message})`);
}

async function unknownModel() {
  const e = await expectError(
    () => client.chat.completions.create({ model: 'no-such-model', messages: MESSAGES }),
    BadRequestError,
    400,
    'unknown model',
  );
  ok(`unknown model: BadRequestError 400 (${e.message})`);
}

async function rateLimited() {
  for (const stream of [false, true]) {
    const e = await expectError(
      async () => {
        const r = await client.chat.completions.create({ model: RATE_LIMITED_MODEL, messages: MESSAGES, stream });
        if (stream) for await (const _ of r);
      },
      RateLimitError,
      429,
      `429 model (stream=${stream})`,
    );
    check(e.headers?.get?.('retry-after') != null, `429 (stream=${stream}) without a retry-after header`);
  }
  ok('429 model: RateLimitError (non-streaming and streaming), retry-after present');
}

const CHECKS = [
  chatNonStreaming,
  chatStreaming,
  chatStreamHelper,
  toolCallNonStreaming,
  toolCallStreaming,
  embeddings,
  modelsList,
  invalidKey,
  unknownModel,
  rateLimited,
];

console.log(`openai-node ${sdkVersion} against ${BASE_URL}`);
for (const f of CHECKS) {
  try {
    await f();
  } catch (e) {
    if (e instanceof CheckFailed) {
      console.error(`FAIL ${f.name}: ${e.message}`);
    } else if (e instanceof APIError) {
      console.error(
        `FAIL ${f.name}: ${e.constructor.name} status=${e.status} message=${JSON.stringify(e.message)} error=${JSON.stringify(e.error)}`,
      );
    } else {
      console.error(`FAIL ${f.name}: ${e?.stack ?? e}`);
    }
    process.exit(1);
  }
}
console.log(`all ${CHECKS.length} checks passed`);

// The official `@anthropic-ai/sdk` client against llmesh-proxy's Anthropic-compatible endpoint
// (POST /v1/messages), answered by an OpenAI-flavour fake: a Claude application gets the same
// failover, in its own API's shapes.
//
// Driven by tests/integration/sdk/translation_sdk_test.cc, which passes:
//   LLMESH_ANTHROPIC_BASE_URL   the proxy's root URL (the SDK appends /v1/messages)
//   LLMESH_ANTHROPIC_MODEL      a route alias answered by the OpenAI-flavour fake
//   LLMESH_ANTHROPIC_TEXT       that fake's exact text
//   LLMESH_ANTHROPIC_CONTROL    that fake's /_fake URL
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { requireEnv, scriptFake, weatherArguments, weatherTool } from './support.mjs';

const model = requireEnv('LLMESH_ANTHROPIC_MODEL');
const expectText = requireEnv('LLMESH_ANTHROPIC_TEXT');
const control = requireEnv('LLMESH_ANTHROPIC_CONTROL');
const client = new Anthropic({
  baseURL: requireEnv('LLMESH_ANTHROPIC_BASE_URL'),
  apiKey: 'client-key-that-must-not-be-forwarded',
  maxRetries: 0,
  timeout: 20_000,
});
const messages = [{ role: 'user', content: 'Say something.' }];
const tools = [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.parameters }];
const toolMessages = [{ role: 'user', content: 'What is the weather in Paris?' }];

test('non-streaming message returns the text, stop reason and usage', async () => {
  const { data, response } = await client.messages
    .create({ model, max_tokens: 256, messages })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(data.type, 'message');
  assert.equal(data.role, 'assistant');
  assert.equal(data.content.length, 1);
  assert.equal(data.content[0].type, 'text');
  assert.equal(data.content[0].text, expectText);
  assert.equal(data.stop_reason, 'end_turn');
  assert.ok(data.usage.input_tokens > 0, `usage.input_tokens = ${data.usage.input_tokens}`);
  assert.ok(data.usage.output_tokens > 0, `usage.output_tokens = ${data.usage.output_tokens}`);
  assert.ok(response.headers.get('x-llmesh-provider'), 'x-llmesh-provider header missing');
});

test('streaming message delivers the same text through the SDK stream helper', async () => {
  const stream = client.messages.stream({ model, max_tokens: 256, messages });
  let text = '';
  stream.on('text', (delta) => {
    text += delta;
  });
  const final = await stream.finalMessage();
  assert.equal(text, expectText);
  assert.equal(final.content[0].text, expectText);
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(final.usage.output_tokens > 0);
});

test('non-streaming tool use', async () => {
  await scriptFake(control, { tool_call: weatherTool.name, tool_arguments: weatherArguments, count: 1 });
  const data = await client.messages.create({ model, max_tokens: 256, messages: toolMessages, tools });
  assert.equal(data.stop_reason, 'tool_use');
  const uses = data.content.filter((block) => block.type === 'tool_use');
  assert.equal(uses.length, 1);
  assert.ok(uses[0].id.length > 0, 'tool_use id missing');
  assert.equal(uses[0].name, 'get_weather');
  assert.deepEqual(uses[0].input, weatherArguments);
});

test('streaming tool use arrives as input_json_delta and parses to the same input', async () => {
  await scriptFake(control, { tool_call: weatherTool.name, tool_arguments: weatherArguments, count: 1 });
  const stream = client.messages.stream({ model, max_tokens: 256, messages: toolMessages, tools });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const uses = final.content.filter((block) => block.type === 'tool_use');
  assert.equal(uses.length, 1);
  assert.equal(uses[0].name, 'get_weather');
  assert.deepEqual(uses[0].input, weatherArguments);
});

test('an unknown model is a NotFoundError in Anthropic shape', async () => {
  await assert.rejects(
    client.messages.create({ model: 'no-such-model-anywhere', max_tokens: 16, messages }),
    (err) => {
      assert.ok(err instanceof Anthropic.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 404);
      assert.equal(err.error?.error?.type, 'not_found_error');
      return true;
    },
  );
});

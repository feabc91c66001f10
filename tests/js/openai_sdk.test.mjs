// The official `openai` npm client against llmesh-proxy: what a real application sees.
//
// Driven by tests/integration/sdk/openai_sdk_test.cc, which starts the fake provider and the
// proxy and passes:
//   LLMESH_BASE_URL     the proxy's OpenAI base URL, e.g. http://127.0.0.1:40123/v1
//   LLMESH_MODEL        a route alias the proxy serves, e.g. "chat"
//   LLMESH_EXPECT_TEXT  the exact assistant text the fake provider produces for that route
// Run by hand with the same variables: `node --test tests/js/openai_sdk.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { messages, newClient, requireEnv } from './support.mjs';

const model = requireEnv('LLMESH_MODEL');
const expectText = requireEnv('LLMESH_EXPECT_TEXT');
const client = newClient();

test('non-streaming chat completion returns the provider text, usage and llmesh headers', async () => {
  const { data, response } = await client.chat.completions
    .create({ model, messages })
    .withResponse();

  assert.equal(response.status, 200);
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices.length, 1);
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.equal(data.choices[0].message.content, expectText);
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(data.usage.total_tokens > 0, `usage.total_tokens = ${data.usage.total_tokens}`);
  assert.ok(response.headers.get('x-llmesh-provider'), 'x-llmesh-provider header missing');
  assert.ok(response.headers.get('x-llmesh-request-id'), 'x-llmesh-request-id header missing');
});

test('streaming chat completion delivers the same text and a final usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });

  let text = '';
  let usageChunks = 0;
  let lastUsage = null;
  let finishReason = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    if (chunk.usage) {
      usageChunks += 1;
      lastUsage = chunk.usage;
      // OpenAI sends usage on a final chunk of its own, with no choices.
      assert.equal(chunk.choices.length, 0);
    }
  }

  assert.equal(text, expectText);
  assert.equal(finishReason, 'stop');
  assert.equal(usageChunks, 1);
  assert.ok(lastUsage.total_tokens > 0, `usage.total_tokens = ${lastUsage.total_tokens}`);
});

test('an unknown model is a NotFoundError with code model_not_found', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model-anywhere', messages }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      return true;
    },
  );
});

test('embeddings return one float vector per input with encoding_format float', async () => {
  const input = ['first input', 'second input', 'third input'];
  const result = await client.embeddings.create({ model, input, encoding_format: 'float' });

  assert.equal(result.object, 'list');
  assert.equal(result.data.length, input.length);
  const dims = result.data[0].embedding.length;
  assert.ok(dims > 0, 'empty embedding');
  result.data.forEach((item, i) => {
    assert.equal(item.index, i);
    assert.equal(item.embedding.length, dims);
    assert.ok(item.embedding.every((v) => typeof v === 'number' && Number.isFinite(v)));
  });
});

// Without encoding_format the SDK asks for base64 and decodes float32 itself, so a server that
// ignored the field would hand the application garbage; compare with the float answer.
test('embeddings with the SDK default (base64) encoding decode to the float vectors', async () => {
  const input = ['first input', 'second input'];
  const floats = await client.embeddings.create({ model, input, encoding_format: 'float' });
  const decoded = await client.embeddings.create({ model, input });

  assert.equal(decoded.data.length, input.length);
  decoded.data.forEach((item, i) => {
    assert.equal(item.index, i);
    assert.deepEqual(item.embedding, floats.data[i].embedding.map(Math.fround));
  });
});

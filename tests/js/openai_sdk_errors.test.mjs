// The official `openai` npm client against llmesh-proxy when the provider fails: what an
// application sees on a route with a single target, where the proxy has nowhere to fail over.
//
// Driven by tests/integration/sdk/openai_sdk_test.cc (together with openai_sdk.test.mjs), which
// starts the fake providers and the proxy and passes:
//   LLMESH_BASE_URL          the proxy's OpenAI base URL, e.g. http://127.0.0.1:40123/v1
//   LLMESH_SOLO_MODEL        a route alias whose only target is the scriptable fake
//   LLMESH_SOLO_EXPECT_TEXT  the exact assistant text that fake produces
//   LLMESH_FAKE_CONTROL_URL  that fake's control base URL, e.g. http://127.0.0.1:40124/_fake
// No other client uses that fake, so a script posted here applies to this file's requests only.
// Tests in one file run one after another: each script reaches the request that follows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { messages, newClient, requireEnv } from './support.mjs';

const model = requireEnv('LLMESH_SOLO_MODEL');
const expectText = requireEnv('LLMESH_SOLO_EXPECT_TEXT');
const controlURL = requireEnv('LLMESH_FAKE_CONTROL_URL');
const client = newClient();

async function control(method, path, body) {
  const response = await fetch(`${controlURL}/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${method} ${path}: ${text}`);
  return JSON.parse(text);
}

// Runs `body` with `script` applied to the fake's next request, then checks that exactly one
// chat request reached the fake and that the scripted failure is the one it served.
async function withScript(script, body) {
  const before = await control('GET', 'stats');
  assert.deepEqual(await control('POST', 'script', script), { ok: true });
  await body();
  const after = await control('GET', 'stats');
  assert.equal(after.chat - before.chat, 1, 'the proxy must make exactly one attempt');
  assert.equal(after.scripted_failures - before.scripted_failures, 1);
}

test('a stream that breaks after content throws from the iterator instead of ending cleanly', async () => {
  // Role chunk and two content chunks, then a TCP reset: past the commit point, so the proxy
  // must end the client's stream with an error event.
  await withScript({ reset_after_events: 3, count: 1 }, async () => {
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) {
          for (const choice of chunk.choices) text += choice.delta?.content ?? '';
        }
      })(),
      (err) => {
        assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
        // Raised from the in-stream {"error":...} event, not from an HTTP status.
        assert.equal(err.status, undefined);
        assert.equal(err.error?.type, 'server_error');
        assert.equal(err.code, 'upstream_reset');
        return true;
      },
    );
    // The content sent before the failure reached the application unchanged.
    const pieces = expectText.split(' ').filter((piece) => piece !== '');
    assert.equal(text, `${pieces[0]} ${pieces[1]} `);
  });
});

test('a 503 from the only target is an InternalServerError with status 503', async () => {
  await withScript({ status: 503, count: 1 }, async () => {
    await assert.rejects(client.chat.completions.create({ model, messages }), (err) => {
      assert.ok(err instanceof OpenAI.InternalServerError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 503);
      assert.equal(err.error?.type, 'server_error');
      assert.equal(err.code, 'overloaded');
      return true;
    });
  });
});

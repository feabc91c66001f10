// The official `openai` npm client against llmesh-proxy routes answered by providers of other
// formats: an Anthropic-flavour and a Gemini-flavour fake. The application cannot tell: text,
// streaming, tool calls and usage arrive in OpenAI's shapes.
//
// Driven by tests/integration/sdk/translation_sdk_test.cc, which passes:
//   LLMESH_BASE_URL                the proxy's OpenAI base URL (…/v1)
//   LLMESH_TRANSLATED_ROUTES       JSON: [{"model": route alias, "text": the fake's exact text,
//                                          "control": the fake's /_fake URL}, …]
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messages, newClient, requireEnv, scriptFake, weatherArguments, weatherTool } from './support.mjs';

const routes = JSON.parse(requireEnv('LLMESH_TRANSLATED_ROUTES'));
const client = newClient();
const tools = [{ type: 'function', function: weatherTool }];
const toolMessages = [{ role: 'user', content: 'What is the weather in Paris?' }];

for (const route of routes) {
  test(`${route.model}: non-streaming text`, async () => {
    const { data, response } = await client.chat.completions
      .create({ model: route.model, messages })
      .withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, route.text);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage.prompt_tokens > 0, `usage.prompt_tokens = ${data.usage.prompt_tokens}`);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
  });

  test(`${route.model}: streaming text with a final usage chunk`, async () => {
    const stream = await client.chat.completions.create({
      model: route.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finishReason = null;
    let usageChunks = 0;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta?.content ?? '';
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      if (chunk.usage) {
        usageChunks += 1;
        assert.equal(chunk.choices.length, 0);
        assert.ok(chunk.usage.completion_tokens > 0);
      }
    }
    assert.equal(text, route.text);
    assert.equal(finishReason, 'stop');
    assert.equal(usageChunks, 1);
  });

  test(`${route.model}: non-streaming tool call`, async () => {
    await scriptFake(route.control, { tool_call: weatherTool.name, tool_arguments: weatherArguments, count: 1 });
    const data = await client.chat.completions.create({ model: route.model, messages: toolMessages, tools });
    const message = data.choices[0].message;
    assert.equal(data.choices[0].finish_reason, 'tool_calls');
    assert.equal(message.tool_calls.length, 1);
    const call = message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.ok(call.id.length > 0, 'tool call id missing');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), weatherArguments);
  });

  test(`${route.model}: streaming tool call`, async () => {
    await scriptFake(route.control, { tool_call: weatherTool.name, tool_arguments: weatherArguments, count: 1 });
    const stream = await client.chat.completions.create({
      model: route.model,
      messages: toolMessages,
      tools,
      stream: true,
    });
    // Accumulated the way applications do it: by tool call index.
    const calls = [];
    let finishReason = null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        for (const delta of choice.delta?.tool_calls ?? []) {
          calls[delta.index] ??= { id: '', name: '', arguments: '' };
          if (delta.id) calls[delta.index].id = delta.id;
          if (delta.function?.name) calls[delta.index].name += delta.function.name;
          if (delta.function?.arguments) calls[delta.index].arguments += delta.function.arguments;
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    }
    assert.equal(finishReason, 'tool_calls');
    assert.equal(calls.length, 1);
    assert.ok(calls[0].id.length > 0, 'tool call id missing');
    assert.equal(calls[0].name, 'get_weather');
    assert.deepEqual(JSON.parse(calls[0].arguments), weatherArguments);
  });
}

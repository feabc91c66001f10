// Shared by the SDK test files: environment and the client an application would build.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

export function requireEnv(name) {
  const value = process.env[name];
  assert.ok(value !== undefined && value !== '', `environment variable ${name} must be set`);
  return value;
}

// The key is the application's own; the proxy must replace it with the provider's key. The
// driver checks on the fake provider's side that this value never arrives there.
export function newClient() {
  return new OpenAI({
    baseURL: requireEnv('LLMESH_BASE_URL'),
    apiKey: 'client-key-that-must-not-be-forwarded',
    maxRetries: 0,
    timeout: 20_000,
  });
}

export const messages = [{ role: 'user', content: 'Say something.' }];

// Replaces a fake provider's script (POST <control>/script); `controlUrl` is its /_fake URL.
export async function scriptFake(controlUrl, script) {
  const response = await fetch(`${controlUrl}/script`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(script),
  });
  assert.equal(response.status, 200, await response.text());
}

// The tool every tool-call test offers, and the call the fakes are scripted to make.
export const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};
export const weatherArguments = { city: 'Paris' };

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

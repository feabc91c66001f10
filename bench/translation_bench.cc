// CPU cost of the provider layer per request: an OpenAI client answered by an OpenAI provider
// (passthrough: only `model` is rewritten, answer bytes forwarded) versus by an Anthropic
// provider (parse to canonical, encode a Messages body, decode the Messages answer, render a
// chat.completion), for a non-streamed and a streamed answer. The difference is what
// translation adds to a request; the HTTP and failover work around it is the same in both.
//
// Run: build/bin/translation_bench (make bench runs it and reports the figures).
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "proxy/codec/canonical_form.h"
#include "proxy/provider/anthropic/anthropic_adapter.h"
#include "proxy/provider/openai/openai_adapter.h"
#include "proxy/provider/openai/openai_response.h"
#include "proxy/provider/openai/openai_stream_encoder.h"

namespace llmesh::provider {
namespace {

// About 1 KB: a system prompt, a short conversation and one tool, as applications send.
constexpr std::string_view kRequest = R"({"model":"chat","messages":[
{"role":"system","content":"You are a concise assistant for an online store. Answer in two sentences at most and never invent order numbers or prices that the user did not give you."},
{"role":"user","content":"Hi! I ordered a pair of running shoes last week and they have not arrived yet. Can you tell me what I should do?"},
{"role":"assistant","content":"I am sorry to hear that. Could you share your order number so I can look it up?"},
{"role":"user","content":"Sure, it is 48213. I live in Lyon if that matters for the carrier."}],
"temperature":0.3,"max_tokens":256,
"tools":[{"type":"function","function":{"name":"lookup_order","description":"Find an order and its shipping status","parameters":{"type":"object","properties":{"order_id":{"type":"string"},"city":{"type":"string"}},"required":["order_id"]}}}]})";

constexpr std::string_view kStreamRequestSuffix = R"(,"stream":true,"stream_options":{"include_usage":true}})";

constexpr std::string_view kOpenAiResponse =
    R"({"id":"chatcmpl-123","object":"chat.completion","created":1715000000,"model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"finish_reason":"stop","logprobs":null,"message":{"role":"assistant",)"
    R"("content":"Your order 48213 left our warehouse on Monday and is with the carrier in Lyon; it should arrive within two days.","refusal":null}}],)"
    R"("usage":{"prompt_tokens":212,"completion_tokens":29,"total_tokens":241}})";

constexpr std::string_view kAnthropicResponse =
    R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
    R"("content":[{"type":"text","text":"Your order 48213 left our warehouse on Monday and is with the carrier in Lyon; it should arrive within two days."}],)"
    R"("stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":212,"output_tokens":29,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}})";

// Twelve content deltas, as a short streamed answer arrives.
std::string OpenAiStream() {
  std::string stream =
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1715000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null})"
      "\n\n";
  for (int i = 0; i < 12; ++i) {
    stream +=
        R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1715000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}],"usage":null})"
        "\n\n";
  }
  stream +=
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1715000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})"
      "\n\n"
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1715000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":212,"completion_tokens":12,"total_tokens":224}})"
      "\n\ndata: [DONE]\n\n";
  return stream;
}

std::string AnthropicStream() {
  std::string stream =
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":212,"output_tokens":1}}})"
      "\n\nevent: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";
  for (int i = 0; i < 12; ++i) {
    stream +=
        "event: content_block_delta\n"
        R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word "}})"
        "\n\n";
  }
  stream +=
      "event: content_block_stop\n"
      R"(data: {"type":"content_block_stop","index":0})"
      "\n\nevent: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}})"
      "\n\nevent: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n";
  return stream;
}

const TargetCall kCall{"/v1", "target-model", "sk-bench", 4096, ""};

ClientRequest Parse(bool stream, bool translate) {
  std::string body(kRequest);
  if (stream) body.replace(body.size() - 1, 1, kStreamRequestSuffix);
  absl::StatusOr<ClientRequest> request = ParseClientRequest(Operation::kChatCompletions, body);
  if (translate) codec::AddCanonicalForm(*request);
  return *std::move(request);
}

void BM_NonStream_Passthrough(benchmark::State& state) {
  const OpenAiAdapter adapter;
  for (auto _ : state) {
    ClientRequest request = Parse(false, false);
    absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, kCall);
    DecodedResponse decoded = adapter.Decode(request, 200, kOpenAiResponse);
    benchmark::DoNotOptimize(encoded->body.data());
    benchmark::DoNotOptimize(decoded.body.data());
  }
}
BENCHMARK(BM_NonStream_Passthrough);

void BM_NonStream_OpenAiToAnthropic(benchmark::State& state) {
  const AnthropicAdapter adapter;
  for (auto _ : state) {
    ClientRequest request = Parse(false, true);
    absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, kCall);
    DecodedResponse decoded = adapter.Decode(request, 200, kAnthropicResponse);
    std::string rendered = RenderOpenAiChatResponse(*decoded.chat);
    benchmark::DoNotOptimize(encoded->body.data());
    benchmark::DoNotOptimize(rendered.data());
  }
}
BENCHMARK(BM_NonStream_OpenAiToAnthropic);

void BM_Stream_Passthrough(benchmark::State& state) {
  const OpenAiAdapter adapter;
  const std::string upstream = OpenAiStream();
  for (auto _ : state) {
    ClientRequest request = Parse(true, false);
    absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, kCall);
    std::unique_ptr<StreamDecoder> decoder = adapter.NewStreamDecoder(request);
    StreamDecoder::Progress progress;
    decoder->Feed(upstream, progress);
    benchmark::DoNotOptimize(encoded->body.data());
    benchmark::DoNotOptimize(progress.wire.data());
  }
}
BENCHMARK(BM_Stream_Passthrough);

void BM_Stream_OpenAiToAnthropic(benchmark::State& state) {
  const AnthropicAdapter adapter;
  const std::string upstream = AnthropicStream();
  for (auto _ : state) {
    ClientRequest request = Parse(true, true);
    absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, kCall);
    std::unique_ptr<StreamDecoder> decoder = adapter.NewStreamDecoder(request);
    StreamDecoder::Progress progress;
    decoder->Feed(upstream, progress);
    OpenAiStreamEncoder encoder(request.include_usage, 1715000000);
    std::string out;
    for (const StreamEvent& event : progress.events) encoder.Encode(event, out);
    encoder.End(out);
    benchmark::DoNotOptimize(encoded->body.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Stream_OpenAiToAnthropic);

}  // namespace
}  // namespace llmesh::provider

BENCHMARK_MAIN();

// Writes the executor's answer to the client in the client's API shape.
//
// The executor (proxy/failover) hands a ResponseSink either bytes already in the client's format
// (passthrough: the answering provider speaks the client's API) or canonical outcomes (a
// translated answer). ClientSink does what every client format shares — the response head with
// the x-llmesh-* headers, passthrough bytes, a reused buffer for encoded stream events, the
// clean end — and leaves the rendering of translated answers, stream events and stream errors to
// one subclass per client API (OpenAiSink, AnthropicSink).
//
// Threading: one sink per request, used on the worker's executor only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/server.h"
#include "proxy/failover/failover.h"
#include "proxy/provider/provider.h"

namespace llmesh::codec {

// Adds x-llmesh-provider, x-llmesh-model (when a target answered), x-llmesh-attempts and
// x-llmesh-request-id to fields that have none of them yet.
void SetAnswerHeaders(boost::beast::http::fields& fields, const failover::AnswerInfo& answer,
                      std::string_view request_id);

class ClientSink : public failover::ResponseSink {
 public:
  // All references outlive the sink.
  ClientSink(http::ResponseWriter& writer, const http::Request& request, const provider::ClientRequest& client,
             std::string_view request_id)
      : writer_(writer), request_(request), client_(client), request_id_(request_id) {}

  boost::asio::awaitable<absl::Status> SendBody(const failover::AnswerInfo& answer, int status,
                                                provider::DecodedResponse decoded) final;
  boost::asio::awaitable<absl::Status> StartStream(const failover::AnswerInfo& answer) final;
  boost::asio::awaitable<absl::Status> WriteStream(provider::StreamDecoder::Progress& progress) final;
  boost::asio::awaitable<absl::Status> FinishStream(provider::StreamDecoder::Progress& last) final;
  boost::asio::awaitable<void> FailStream(const provider::UpstreamFailure& failure) final;

 protected:
  const provider::ClientRequest& client() const { return client_; }

  // The client-format body of a translated answer (`decoded.chat` or `decoded.embeddings`).
  // INTERNAL when the decoded answer carries neither.
  virtual absl::StatusOr<std::string> RenderBody(const provider::DecodedResponse& decoded) = 0;
  // Appends the client-format SSE of translated `events`.
  virtual void EncodeEvents(const std::vector<provider::StreamEvent>& events, std::string& out) = 0;
  // Appends what ends a translated stream cleanly (after its finish and usage events).
  virtual void EncodeEnd(std::string& out) = 0;
  // The error event that ends a committed stream, whichever way it was answered.
  virtual std::string StreamError(const provider::UpstreamFailure& failure) = 0;

 private:
  // Writes stream bytes; the first call sends the kept head with them.
  boost::asio::awaitable<absl::Status> Write(std::string_view data);

  http::ResponseWriter& writer_;
  const http::Request& request_;
  const provider::ClientRequest& client_;
  std::string_view request_id_;
  bool translated_ = false;  // the stream's answering provider speaks another format
  // StartStream's head, kept until the first bytes so both go out in one write: the executor
  // commits on a first content event and writes it right away.
  std::optional<boost::beast::http::response_header<>> head_;
  std::string encoded_;      // reused for every batch of encoded events
};

}  // namespace llmesh::codec

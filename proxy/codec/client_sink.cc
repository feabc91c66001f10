#include "proxy/codec/client_sink.h"

#include <utility>

#include <boost/beast/http/field.hpp>

namespace llmesh::codec {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

void SetAnswerHeaders(beast_http::fields& fields, const failover::AnswerInfo& answer, std::string_view request_id) {
  // Named as Beast's unknown fields, which they are, so it need not look each name up.
  constexpr beast_http::field kOurs = beast_http::field::unknown;
  if (answer.target != nullptr) {
    fields.insert(kOurs, "x-llmesh-provider", answer.target->provider->name);
    fields.insert(kOurs, "x-llmesh-model", answer.target->model->name);
  }
  fields.insert(kOurs, "x-llmesh-attempts", std::to_string(answer.attempts));
  fields.insert(kOurs, "x-llmesh-request-id", request_id);
}

asio::awaitable<absl::Status> ClientSink::SendBody(const failover::AnswerInfo& answer, int status,
                                                   provider::DecodedResponse decoded) {
  std::string body;
  if (!decoded.body.empty()) {
    body = std::move(decoded.body);
  } else {
    absl::StatusOr<std::string> rendered = RenderBody(decoded);
    if (!rendered.ok()) co_return rendered.status();
    body = *std::move(rendered);
  }
  // Version, keep-alive and Content-Length are the writer's to set.
  http::Response response{static_cast<beast_http::status>(status), request_.version()};
  response.insert(beast_http::field::content_type, "application/json");
  SetAnswerHeaders(response.base(), answer, request_id_);
  response.body() = std::move(body);
  co_return co_await writer_.Send(std::move(response));
}

asio::awaitable<absl::Status> ClientSink::StartStream(const failover::AnswerInfo& answer) {
  translated_ = !answer.target->provider->adapter->PassesThrough(client_);
  beast_http::response_header<> head;
  head.version(request_.version());
  head.result(beast_http::status::ok);
  head.insert(beast_http::field::content_type, "text/event-stream");
  head.insert(beast_http::field::cache_control, "no-cache");
  SetAnswerHeaders(head, answer, request_id_);
  head_.emplace(std::move(head));
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> ClientSink::Write(std::string_view data) {
  if (!head_) co_return co_await writer_.Write(data);
  beast_http::response_header<> head = std::move(*head_);
  head_.reset();
  co_return co_await writer_.StartStream(std::move(head), data);
}

asio::awaitable<absl::Status> ClientSink::WriteStream(provider::StreamDecoder::Progress& progress) {
  absl::Status written;
  if (!progress.wire.empty()) {
    written = co_await Write(progress.wire);
    progress.wire.clear();
  }
  if (!progress.events.empty()) {
    encoded_.clear();
    EncodeEvents(progress.events, encoded_);
    progress.events.clear();
    if (written.ok()) written = co_await Write(encoded_);
  }
  co_return written;
}

asio::awaitable<absl::Status> ClientSink::FinishStream(provider::StreamDecoder::Progress& last) {
  std::string_view tail = last.wire;
  if (!last.events.empty() || translated_) {
    encoded_.assign(last.wire);
    EncodeEvents(last.events, encoded_);
    if (translated_) EncodeEnd(encoded_);
    tail = encoded_;
  }
  if (head_) {
    // Nothing written yet: the head goes with the tail.
    if (absl::Status written = co_await Write(tail); !written.ok()) co_return written;
    tail = {};
  }
  absl::Status finished = co_await writer_.FinishWith(tail);
  last.wire.clear();
  last.events.clear();
  co_return finished;
}

asio::awaitable<void> ClientSink::FailStream(const provider::UpstreamFailure& failure) {
  // The error event tells SDKs what happened; not finishing the chunked body tells every other
  // client that the stream is incomplete.
  const std::string event = StreamError(failure);
  (void)co_await Write(event);
}

}  // namespace llmesh::codec

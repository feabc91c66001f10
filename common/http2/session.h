// The HTTP/2 core shared by both ends of the request path: one nghttp2 session (client or server
// role) pumped by coroutines over a byte Transport (plain TCP or TLS over TCP). The server's h2
// connections (common/http) and the proxy's multiplexed upstream connections (proxy/upstream)
// are subclasses that turn the callbacks below into requests and responses.
//
// What the core does: sends the SETTINGS (see SessionOptions), feeds every byte read into
// nghttp2_session_mem_recv from one reused buffer, and writes what nghttp2 queues with a single
// writer coroutine: frames are appended to one reused buffer and DATA payloads are referenced
// where they lie (NGHTTP2_DATA_FLAG_NO_COPY), so a flush is one gather write of everything
// queued, with no allocation per frame. While a write is in flight, new frames wait inside
// nghttp2 and go out together in the next one.
//
// Flow control is manual (NGHTTP2_OPT_NO_AUTO_WINDOW_UPDATE): received DATA counts against its
// stream's window until the consumer calls Consume(stream, n) for bytes it has taken, so a slow
// reader stops its peer's stream instead of growing a buffer. The connection window is handed
// back as DATA arrives: what a stream holds unread is bounded by the stream window, and a stalled
// stream never holds up the others on its connection. Outgoing bodies are
// OutboundBody objects: the subclass points `pending` at bytes it keeps alive, calls
// ResumeBody, and learns through OnBodyWritten when they have been written. PING and SETTINGS
// acknowledgements are nghttp2's.
//
// Threading: one io_context (the connection's worker); nothing is thread-safe and there are no
// locks. Every method and every hook runs on that executor. Hooks are called from inside
// nghttp2 (during Run's reads or the writer's sends): they must not destroy the Session, must not
// await, and may submit frames (submissions made there are picked up by the writer).
//
// Lifetime: the owner keeps the Session (and the Transport) alive until Run has completed.
// Cancelling the coroutine awaiting Run closes the transport and ends Run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/error_code.hpp>
#include <nghttp2/nghttp2.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace llmesh::http2 {

namespace asio = boost::asio;
using boost::system::error_code;
using TlsStream = boost::beast::ssl_stream<asio::ip::tcp::socket>;

// The bytes under a session. Implementations borrow a stream owned elsewhere (the server's
// connection, the upstream pool's Connection), which must outlive the Transport. At most one
// ReadSome and one WriteAll are outstanding at a time (the Session guarantees it).
class Transport {
 public:
  virtual ~Transport() = default;
  // Reads at least one byte into `buffer`. Any error (EOF, reset, cancellation, Close) ends the
  // session.
  virtual asio::awaitable<std::tuple<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) = 0;
  // Writes every byte of `buffers` or fails.
  virtual asio::awaitable<error_code> WriteAll(std::span<const asio::const_buffer> buffers) = 0;
  // Closes the TCP socket now (no TLS close_notify); pending operations complete with errors.
  virtual void Close() = 0;
  // The TCP socket at the bottom (for options, deadlines and addresses).
  virtual asio::ip::tcp::socket& socket() = 0;
};

// A plain TCP socket (h2c). Writes try a non-blocking send first, so a flush the kernel takes
// at once costs no trip through the event loop.
class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::ip::tcp::socket& socket) : socket_(socket) {}
  asio::awaitable<std::tuple<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override;
  asio::awaitable<error_code> WriteAll(std::span<const asio::const_buffer> buffers) override;
  void Close() override;
  asio::ip::tcp::socket& socket() override { return socket_; }

 private:
  asio::ip::tcp::socket& socket_;
};

// TLS over TCP after a completed handshake (ALPN "h2").
class TlsTransport final : public Transport {
 public:
  explicit TlsTransport(TlsStream& stream) : stream_(stream) {}
  asio::awaitable<std::tuple<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override;
  asio::awaitable<error_code> WriteAll(std::span<const asio::const_buffer> buffers) override;
  void Close() override;
  asio::ip::tcp::socket& socket() override { return stream_.next_layer(); }

 private:
  TlsStream& stream_;
};

struct SessionOptions {
  // SETTINGS_MAX_CONCURRENT_STREAMS we announce: streams the peer may open at once (a server's
  // limit on concurrent requests; nghttp2 refuses the excess with RST_STREAM REFUSED_STREAM).
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE we announce: bytes the peer may send on one stream before we
  // Consume them. LLM bodies (prompts up, tokens down) fit without waiting for WINDOW_UPDATEs.
  uint32_t stream_window_bytes = 1 << 20;
  // Our connection-level receive window (sent as a WINDOW_UPDATE on stream 0 at start): bytes in
  // flight on the wire, as it is refilled on receipt.
  uint32_t connection_window_bytes = 16 << 20;
  // SETTINGS_MAX_HEADER_LIST_SIZE we announce (advisory for the peer; a subclass enforces its
  // own limit in OnHeader).
  uint32_t max_header_list_bytes = 64 << 10;
};

// One stream's outgoing body, owned by the subclass (typically inside its stream object) and
// registered with SubmitRequest/SubmitResponse. The core frames `pending` into DATA frames as
// the peer's flow-control windows allow, referencing the bytes without copying them.
struct OutboundBody {
  int32_t stream_id = 0;  // set by SubmitRequest / SubmitResponse
  // Bytes not yet framed. The subclass sets it (when empty) and calls ResumeBody; the core
  // consumes it from the front. The bytes must stay valid until written() (see below).
  std::string_view pending;
  // Send END_STREAM once `pending` is empty. Set it, then call ResumeBody.
  bool end_stream = false;
  // Set by the core once the DATA frame carrying END_STREAM has been framed.
  bool end_stream_framed = false;
  // The write batch that carries the last framed bytes of this body (0: none yet). The bytes
  // handed over so far are on the wire once Session::written_batches() >= last_batch; if the
  // session closes first, they never will be (and are no longer referenced).
  uint64_t last_batch = 0;
};

class Session {
 public:
  enum class Role { kClient, kServer };

  // Creates the nghttp2 session. Nothing is sent before Run.
  Session(Role role, Transport& transport, const SessionOptions& options);
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the connection: submits our SETTINGS (and the client preface in the client role), feeds
  // `already_read` (bytes the caller read while sniffing, e.g. the server's copy of the client
  // preface) and then every byte read, and flushes what nghttp2 queues, until nghttp2 wants
  // neither to read nor to write (GOAWAY exchanged and no stream left), the peer closes, an I/O
  // error, a protocol error, Close, or cancellation of the awaiting coroutine. Closes the
  // transport before returning. Once. OK for a clean end (GOAWAY exchanged and nothing left);
  // UNAVAILABLE when the peer closed or the I/O failed first; INTERNAL for a protocol error
  // nghttp2 could not answer with a GOAWAY (e.g. a bad client preface); CANCELLED when
  // cancelled or Close()d. Streams still open then get no OnStreamClose: the owner fails them
  // after Run returns.
  asio::awaitable<absl::Status> Run(std::string_view already_read = {});

  // Wakes the writer to send whatever nghttp2 has queued. Cheap when there is nothing; call it
  // after any nghttp2_submit_* made outside a hook.
  void Flush();

  // Client role: opens a stream with `headers` (pseudo-headers first; nghttp2 copies them).
  // `body` null sends END_STREAM on the HEADERS frame; otherwise it must stay alive until its
  // stream is closed (OnStreamClose) or Run has completed. A request beyond the peer's
  // SETTINGS_MAX_CONCURRENT_STREAMS is held by nghttp2 until a stream closes (check
  // can_open_stream first to avoid that). `stream_user_data` is attached to the stream. Returns
  // the stream id; RESOURCE_EXHAUSTED when the stream ids are used up, UNAVAILABLE after a
  // GOAWAY or once the session is closed.
  absl::StatusOr<int32_t> SubmitRequest(std::span<const nghttp2_nv> headers, OutboundBody* body,
                                        void* stream_user_data = nullptr);
  // Server role: sends the response HEADERS of `stream_id` and, with `body`, its DATA frames
  // (same lifetime rule). UNAVAILABLE if the stream is gone (reset or closed); INTERNAL on
  // misuse (a second response).
  absl::Status SubmitResponse(int32_t stream_id, std::span<const nghttp2_nv> headers,
                              OutboundBody* body);
  // Tells the core that `body.pending` or `body.end_stream` changed, and flushes.
  void ResumeBody(OutboundBody& body);

  // Hands `bytes` of stream `stream_id`'s received DATA back to its flow-control window,
  // sending WINDOW_UPDATEs as nghttp2 sees fit. Nothing to do for a stream that has closed.
  void Consume(int32_t stream_id, size_t bytes);

  // Sends RST_STREAM (nghttp2 error code, e.g. NGHTTP2_CANCEL) unless the stream is closed.
  void ResetStream(int32_t stream_id, uint32_t error_code);
  // Graceful shutdown: GOAWAY with the last stream we processed and NO_ERROR. Streams already
  // open complete; new ones are refused; Run returns once the last one is done. Idempotent.
  void GoAway();
  // Immediate shutdown: GOAWAY with `error_code`, after which Run ends as soon as it is written.
  void Terminate(uint32_t error_code);
  // Closes the transport now; Run ends with CANCELLED. Idempotent.
  void Close();

  // Batches written successfully so far (see OutboundBody::last_batch).
  uint64_t written_batches() const { return written_batches_; }
  // True once Run ended or Close was called.
  bool closed() const { return closed_; }
  // True once the peer sent GOAWAY.
  bool peer_going_away() const { return peer_going_away_; }
  // Client role: whether a new request may be submitted at all (not closed, no GOAWAY either
  // way, stream ids left). The subclass compares its own count of open streams with
  // remote_max_concurrent_streams() to avoid queueing inside nghttp2.
  bool can_open_stream() const;
  // The peer's SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive).
  uint32_t remote_max_concurrent_streams() const;

  nghttp2_session* native() { return session_; }
  Transport& transport() { return transport_; }

  // Looks up what SubmitRequest's `stream_user_data` or nghttp2_session_set_stream_user_data
  // attached to a stream; null when none or the stream is gone.
  void* stream_user_data(int32_t stream_id) const;

 protected:
  // Hooks, called from inside nghttp2 on the session's executor. Returning nonzero from an int
  // hook fails: NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE resets the stream (RST_STREAM
  // INTERNAL_ERROR), NGHTTP2_ERR_CALLBACK_FAILURE ends the whole session.

  // A HEADERS frame begins (a new request on the server, a response or trailers on the client).
  virtual int OnBeginHeaders(const nghttp2_frame& frame) { return 0; }
  // One header field of the frame begun by OnBeginHeaders, already validated by nghttp2 (names
  // lowercase, pseudo-headers first). The views live only during the call.
  virtual int OnHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value) {
    return 0;
  }
  // A complete frame arrived (after its OnHeader calls, or after its DATA chunks). END_STREAM
  // shows in frame.hd.flags. GOAWAY also arrives here (after OnGoAway).
  virtual int OnFrame(const nghttp2_frame& frame) { return 0; }
  // A piece of a DATA frame's payload for `stream_id`. The view lives only during the call; the
  // bytes count against flow control until Consume.
  virtual int OnData(int32_t stream_id, std::string_view data) { return 0; }
  // The stream closed: `error_code` is NGHTTP2_NO_ERROR after a clean end in both directions,
  // else the RST_STREAM code (ours or the peer's; NGHTTP2_REFUSED_STREAM for a stream a GOAWAY
  // left unprocessed). Drop every reference to the stream's OutboundBody bytes only once they
  // are written (written_batches() >= last_batch) or Run has ended.
  virtual int OnStreamClose(int32_t stream_id, uint32_t error_code) { return 0; }
  // The peer sent GOAWAY: streams above `last_stream_id` were not processed and will be closed
  // with REFUSED_STREAM; no new stream may be opened.
  virtual void OnGoAway(int32_t last_stream_id, uint32_t error_code) {}
  // A batch that carried bytes of `body` has been written (written_batches() moved on). Called
  // once per body per batch. Not called when the write fails or the session closes meanwhile:
  // then the bytes are no longer referenced, and waiters learn it from closed() once Run ends.
  virtual void OnBodyWritten(OutboundBody& body) {}

 private:
  friend struct SessionCallbacks;

  asio::awaitable<absl::Status> ReadLoop(std::string_view already_read);
  asio::awaitable<void> WriteLoop();
  // Runs nghttp2_session_send into the batch; false on a fatal nghttp2 error.
  bool FillBatch();
  // True when nghttp2 wants neither to read nor to write: the session is over.
  bool Finished() const;
  void WakeWriter();
  void EndSession();

  // Batch building, from the nghttp2 send callbacks.
  ssize_t AppendFrames(const uint8_t* data, size_t length);
  int AppendData(nghttp2_frame& frame, const uint8_t* framehd, size_t length, OutboundBody& body);
  ssize_t ReadBody(int32_t stream_id, size_t length, uint32_t* flags, OutboundBody& body);

  // One piece of the batch: bytes copied into batch_bytes_ (data null, offset into it) or
  // referenced in place (a DATA payload).
  struct Segment {
    const char* data;
    size_t offset_or_size;
    size_t size;
  };

  Role role_;
  Transport& transport_;
  nghttp2_session* session_ = nullptr;
  SessionOptions options_;

  std::vector<char> read_buffer_;
  std::string batch_bytes_;
  std::vector<Segment> segments_;
  std::vector<asio::const_buffer> gather_;
  std::vector<OutboundBody*> batch_bodies_;
  size_t batch_size_ = 0;
  uint64_t written_batches_ = 0;

  asio::steady_timer writer_wake_;
  bool writer_waiting_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool peer_going_away_ = false;
  bool protocol_error_ = false;
  bool io_error_ = false;
  bool finished_ = false;          // nghttp2 wanted nothing more: a clean end
  bool goaway_submitted_ = false;
};

// True for the connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2): connection,
// keep-alive, proxy-connection, transfer-encoding, upgrade. Case-insensitive.
bool IsConnectionSpecificField(std::string_view name);

// An nghttp2 header list built from HTTP/1-style fields, reusing its storage across uses (keep
// one per connection or stream). Names are lowercased into the list; values are referenced and
// must stay valid until the list is submitted (nghttp2 copies both on submit).
class HeaderList {
 public:
  void Clear() {
    names_.clear();
    entries_.clear();
    name_offsets_.clear();
  }
  // Adds a field whose name is already lowercase (pseudo-headers, literals).
  void AddLowercase(std::string_view name, std::string_view value);
  // Adds a field, lowercasing its name.
  void Add(std::string_view name, std::string_view value);
  // Adds the fields of an HTTP/1-style header that an HTTP/2 message may carry (RFC 9113
  // §8.2.2): connection-specific fields, `host` (sent as :authority by the caller) and `te`
  // other than "trailers" are left out, and so is `also_skip` unless it is field::unknown.
  void AddFields(const boost::beast::http::fields& fields,
                 boost::beast::http::field also_skip = boost::beast::http::field::unknown);
  // The entries, valid until the next Add or Clear.
  std::span<const nghttp2_nv> entries();

 private:
  std::string names_;
  std::vector<nghttp2_nv> entries_;
  // For each entry: offset of its name in names_, or npos when the name is referenced.
  std::vector<size_t> name_offsets_;
};

}  // namespace llmesh::http2

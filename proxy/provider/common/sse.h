// Incremental parser for Server-Sent Events (text/event-stream) bodies from providers.
//
// Stream decoders feed it the upstream body in whatever pieces the transport delivers and get
// one callback per complete event. Framing follows the WHATWG rules that providers rely on
// (wire-formats.md §0): LF, CRLF and lone CR line endings (a CRLF split across two pieces is
// one line ending); lines starting with ':' are comments (DeepSeek's ": keep-alive") and are
// dropped; `event:` names the event; several `data:` lines are joined with "\n"; one space
// after the colon is removed; `id:`, `retry:` and unknown fields are ignored; an event is
// dispatched at a blank line, and only if it had at least one `data:` line.
//
// Copies: an event whose lines all lie within one Feed() buffer is handed out as views into
// that buffer (no copy), unless it has several data lines (those are joined in a scratch
// buffer). Only an event or line that spans Feed() calls is copied, once.
//
// AppendSseEvent is the writing side: passthrough decoders and the client-format stream encoders
// frame the events they emit with it.
//
// Threading: one parser per stream, used by one thread at a time; AppendSseEvent is a pure
// function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"

namespace llmesh::provider {

struct SseEvent {
  // The `event:` field; empty when the event had none (OpenAI and Gemini never send one).
  std::string_view event;
  // The `data:` lines joined with "\n"; may be empty ("data:" alone).
  std::string_view data;
};

class SseParser {
 public:
  // Called once per complete event. The views in the event are valid only during the call:
  // they point into the buffer given to Feed() or into the parser's own scratch space. Return
  // true to go on; false stops the parser for good (the rest of the input is ignored).
  using EventSink = absl::FunctionRef<bool(const SseEvent&)>;

  // Upper bound on one event's size (data plus one pending line); an upstream that streams
  // bytes without ever ending an event cannot make the parser grow without bound.
  static constexpr size_t kDefaultMaxEventBytes = size_t{8} << 20;

  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  SseParser(const SseParser&) = delete;
  SseParser& operator=(const SseParser&) = delete;

  // Consumes the next piece of the body (any split, possibly empty) and calls `sink` for every
  // event completed by it, in order. `bytes` need only live for the duration of the call.
  // Returns false once an event exceeded max_event_bytes; the parser then ignores all further
  // input. After the sink returned false, Feed() ignores input and returns true.
  bool Feed(std::string_view bytes, EventSink sink);

  // The body ended. Dispatches a final event whose lines were complete but whose closing blank
  // line never came (lenient: some servers close right after the last data line); an
  // unterminated last line is discarded as truncated. Returns false if the parser had failed.
  bool Finish(EventSink sink);

  // True once the sink asked to stop.
  bool stopped() const { return stopped_; }
  // True once an event exceeded max_event_bytes.
  bool failed() const { return failed_; }

 private:
  // Handles one complete line. `transient` means `line` lives in line_, which is reused, so
  // field values taken from it must be copied. Returns false to stop.
  bool ProcessLine(std::string_view line, bool transient, EventSink sink);
  void AppendData(std::string_view value, bool transient);
  void SetEventName(std::string_view value, bool transient);
  bool Dispatch(EventSink sink);
  // Moves views into the caller's buffer to owned storage before Feed() returns.
  void Detach();

  std::string_view data() const { return data_owned_ ? std::string_view(data_store_) : data_ref_; }
  std::string_view event_name() const {
    return event_owned_ ? std::string_view(event_store_) : event_ref_;
  }

  const size_t max_event_bytes_;
  // Bytes of a line whose ending has not been seen yet.
  std::string line_;
  // The previous piece ended with '\r': a '\n' starting the next piece belongs to it.
  bool skip_lf_ = false;
  bool stopped_ = false;
  bool failed_ = false;

  // The event being assembled: either a view into the current Feed() buffer or owned.
  bool has_data_ = false;
  bool data_owned_ = false;
  std::string_view data_ref_;
  std::string data_store_;
  bool event_owned_ = false;
  std::string_view event_ref_;
  std::string event_store_;
};

// Appends one event to `wire`: an `event:` line when `event_name` is not empty, one `data:` line
// per line of `data` (so multi-line data stays valid SSE), and the blank line that ends the event.
void AppendSseEvent(std::string& wire, std::string_view event_name, std::string_view data);

}  // namespace llmesh::provider

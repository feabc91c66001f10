#include "proxy/provider/common/sse.h"

#include <cstring>

namespace llmesh::provider {
namespace {

// The first '\r' or '\n' at or after `pos`, or npos. A per-byte search for either character
// (string_view::find_first_of) cost more than everything else a streamed chunk goes through;
// two memchr calls do it at memory speed: the line feed that ends nearly every line, then a
// carriage return before it (CRLF, or a lone CR, which the WHATWG rules also accept).
size_t FindLineEnd(std::string_view bytes, size_t pos) {
  const char* begin = bytes.data() + pos;
  const size_t size = bytes.size() - pos;
  const void* lf = std::memchr(begin, '\n', size);
  const size_t before_lf = lf == nullptr ? size : static_cast<size_t>(static_cast<const char*>(lf) - begin);
  if (const void* cr = std::memchr(begin, '\r', before_lf)) {
    return pos + static_cast<size_t>(static_cast<const char*>(cr) - begin);
  }
  return lf == nullptr ? std::string_view::npos : pos + before_lf;
}

}  // namespace

bool SseParser::Feed(std::string_view bytes, EventSink sink) {
  if (failed_) return false;
  if (stopped_) return true;
  size_t pos = 0;
  if (skip_lf_ && !bytes.empty()) {
    skip_lf_ = false;
    if (bytes[0] == '\n') pos = 1;
  }
  while (pos < bytes.size()) {
    const size_t eol = FindLineEnd(bytes, pos);
    if (eol == std::string_view::npos) {
      const std::string_view rest = bytes.substr(pos);
      if (line_.size() + rest.size() > max_event_bytes_) {
        failed_ = true;
        return false;
      }
      line_.append(rest);
      break;
    }
    std::string_view line;
    bool transient = false;
    if (line_.empty()) {
      line = bytes.substr(pos, eol - pos);
    } else {
      line_.append(bytes.substr(pos, eol - pos));
      line = line_;
      transient = true;
    }
    if (bytes[eol] == '\r') {
      if (eol + 1 < bytes.size()) {
        pos = eol + (bytes[eol + 1] == '\n' ? 2 : 1);
      } else {
        pos = eol + 1;
        skip_lf_ = true;
      }
    } else {
      pos = eol + 1;
    }
    const bool go_on = ProcessLine(line, transient, sink);
    if (transient) line_.clear();
    if (failed_) return false;
    if (!go_on) {
      stopped_ = true;
      return true;
    }
  }
  Detach();
  return true;
}

bool SseParser::Finish(EventSink sink) {
  if (failed_) return false;
  if (stopped_) return true;
  line_.clear();
  if (has_data_ && !Dispatch(sink)) stopped_ = true;
  return true;
}

bool SseParser::ProcessLine(std::string_view line, bool transient, EventSink sink) {
  if (line.empty()) {
    if (!has_data_) {
      // A blank line without data resets the event name too (WHATWG dispatch rules).
      event_owned_ = false;
      event_ref_ = {};
      event_store_.clear();
      return true;
    }
    return Dispatch(sink);
  }
  if (line.front() == ':') return true;
  const size_t colon = line.find(':');
  std::string_view field = line;
  std::string_view value;
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    AppendData(value, transient);
  } else if (field == "event") {
    SetEventName(value, transient);
  }
  return true;
}

void SseParser::AppendData(std::string_view value, bool transient) {
  const size_t current = has_data_ ? data().size() + 1 : 0;
  if (current + value.size() > max_event_bytes_) {
    failed_ = true;
    return;
  }
  if (!has_data_) {
    has_data_ = true;
    if (transient) {
      data_store_.assign(value);
      data_owned_ = true;
    } else {
      data_ref_ = value;
      data_owned_ = false;
    }
    return;
  }
  if (!data_owned_) {
    data_store_.assign(data_ref_);
    data_owned_ = true;
  }
  data_store_.push_back('\n');
  data_store_.append(value);
}

void SseParser::SetEventName(std::string_view value, bool transient) {
  if (value.size() > max_event_bytes_) {
    failed_ = true;
    return;
  }
  if (transient) {
    event_store_.assign(value);
    event_owned_ = true;
  } else {
    event_ref_ = value;
    event_owned_ = false;
  }
}

bool SseParser::Dispatch(EventSink sink) {
  const bool go_on = sink(SseEvent{event_name(), data()});
  has_data_ = false;
  data_owned_ = false;
  data_ref_ = {};
  data_store_.clear();
  event_owned_ = false;
  event_ref_ = {};
  event_store_.clear();
  return go_on;
}

void SseParser::Detach() {
  if (has_data_ && !data_owned_) {
    data_store_.assign(data_ref_);
    data_owned_ = true;
  }
  if (!event_owned_ && !event_ref_.empty()) {
    event_store_.assign(event_ref_);
    event_owned_ = true;
  }
  data_ref_ = {};
  event_ref_ = {};
}

void AppendSseEvent(std::string& wire, std::string_view event_name, std::string_view data) {
  if (!event_name.empty()) {
    wire.append("event: ");
    wire.append(event_name);
    wire.push_back('\n');
  }
  size_t start = 0;
  while (true) {
    const size_t newline = data.find('\n', start);
    wire.append("data: ");
    wire.append(data.substr(start, newline == std::string_view::npos ? std::string_view::npos
                                                                     : newline - start));
    wire.push_back('\n');
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
  wire.push_back('\n');
}

}  // namespace llmesh::provider

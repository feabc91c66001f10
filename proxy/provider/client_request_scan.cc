#include "proxy/provider/client_request_scan.h"

#include <cstdint>
#include <string>
#include <utility>

#include <boost/json/basic_parser_impl.hpp>

#include "proxy/provider/common/json_scan.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// The top-level members the checks read; kOther for every other one.
enum class Member : uint8_t { kOther, kModel, kMessages, kStream, kStreamOptions, kInput, kMaxTokens };

// What a member read holds, as far as the checks care.
enum class Kind : uint8_t { kAbsent, kNull, kTrue, kFalse, kObject, kOther };

class Scanner : public JsonScanHandler {
 public:
  Scanner(Operation operation, ApiFormat format, std::string_view body)
      : operation_(operation), format_(format), body_(body) {}

  bool on_object_begin(error_code& ec) {
    if (depth_ == 0) {
      ++depth_;
      return true;
    }
    if (depth_ == 1) {
      if (member_ == Member::kStreamOptions) {
        stream_options_ = Kind::kObject;
      } else if (!Container(ec)) {
        return false;
      }
    }
    ++depth_;
    return true;
  }
  bool on_object_end(size_t, error_code&) { return Leave(); }

  bool on_array_begin(error_code& ec) {
    if (depth_ == 0) return Refuse(ec);  // not an object: the tree path says so
    if (depth_ == 1) {
      if (member_ == Member::kMessages) {
        messages_array_ = true;
      } else if (!Container(ec)) {
        return false;
      }
    }
    ++depth_;
    return true;
  }
  bool on_array_end(size_t size, error_code&) {
    if (depth_ == 2 && member_ == Member::kMessages) messages_ = size;
    return Leave();
  }

  // A key or string with escapes arrives in parts: a member read may hide in such a key, and
  // such a model is the tree's to read.
  bool on_key_part(json::string_view, size_t, error_code& ec) {
    return depth_ == 1 || InOptions() ? Refuse(ec) : true;
  }
  bool on_key(json::string_view key, size_t, error_code& ec) {
    const std::string_view name(key.data(), key.size());
    if (InOptions()) {
      option_include_usage_ = name == "include_usage";
      if (option_include_usage_ && include_usage_seen_++) return Refuse(ec);
      return true;
    }
    if (depth_ != 1) return true;
    member_ = MemberNamed(name);
    if (member_ == Member::kOther) return true;
    const uint32_t bit = 1u << static_cast<unsigned>(member_);
    if (seen_ & bit) return Refuse(ec);  // the tree keeps one of them; let it decide which
    seen_ |= bit;
    return true;
  }

  bool on_string_part(json::string_view, size_t, error_code& ec) {
    return depth_ == 1 && member_ == Member::kModel ? Refuse(ec) : true;
  }
  bool on_string(json::string_view value, size_t size, error_code& ec) {
    if (depth_ == 1 && member_ == Member::kModel) {
      if (size != value.size() || size == 0) return Refuse(ec);
      model_.assign(value.data(), value.size());
      // A string without escapes arrives as a view of the body itself.
      model_begin_ = static_cast<size_t>(value.data() - body_.data()) - 1;
    }
    return Scalar(Kind::kOther, ec);
  }
  bool on_int64(int64_t value, json::string_view, error_code& ec) { return Scalar(Kind::kOther, ec, value > 0); }
  // Boost.JSON reads integers above INT64_MAX only as uint64.
  bool on_uint64(uint64_t, json::string_view, error_code& ec) { return Scalar(Kind::kOther, ec, true); }
  bool on_double(double, json::string_view, error_code& ec) { return Scalar(Kind::kOther, ec); }
  bool on_bool(bool value, error_code& ec) { return Scalar(value ? Kind::kTrue : Kind::kFalse, ec); }
  bool on_null(error_code& ec) { return Scalar(Kind::kNull, ec); }
  // The outline when every check passes; nullopt leaves the decision to the tree path.
  std::optional<ClientRequestOutline> Outline() {
    if (model_.empty()) return std::nullopt;
    const size_t model_size = model_.size() + 2;
    ClientRequestOutline outline{.model = std::move(model_),
                                 .stream = false,
                                 .include_usage = false,
                                 .model_begin = model_begin_,
                                 .model_size = model_size};
    if (operation_ == Operation::kEmbeddings) {
      if (input_ == Kind::kAbsent || input_ == Kind::kNull) return std::nullopt;
      return outline;
    }
    if (!messages_array_ || messages_ == 0) return std::nullopt;
    if (stream_ != Kind::kAbsent && stream_ != Kind::kNull && stream_ != Kind::kTrue && stream_ != Kind::kFalse) {
      return std::nullopt;
    }
    outline.stream = stream_ == Kind::kTrue;
    if (format_ == ApiFormat::kAnthropic) {
      if (!max_tokens_positive_) return std::nullopt;
      outline.include_usage = outline.stream;  // Anthropic streams always carry usage
      return outline;
    }
    if (outline.stream) {
      if (stream_options_ != Kind::kAbsent && stream_options_ != Kind::kNull && stream_options_ != Kind::kObject) {
        return std::nullopt;
      }
      outline.include_usage = stream_options_ == Kind::kObject && include_usage_;
    }
    return outline;
  }

 private:
  Member MemberNamed(std::string_view name) const {
    if (name == "model") return Member::kModel;
    if (operation_ == Operation::kEmbeddings) return name == "input" ? Member::kInput : Member::kOther;
    if (name == "messages") return Member::kMessages;
    if (name == "stream") return Member::kStream;
    if (format_ == ApiFormat::kAnthropic) return name == "max_tokens" ? Member::kMaxTokens : Member::kOther;
    return name == "stream_options" ? Member::kStreamOptions : Member::kOther;
  }

  bool InOptions() const { return depth_ == 2 && member_ == Member::kStreamOptions && stream_options_ == Kind::kObject; }

  // An array or object as the value of a top-level member (other than an array of messages or
  // an object of stream options).
  bool Container(error_code& ec) {
    switch (member_) {
      case Member::kInput:
        input_ = Kind::kOther;
        return true;
      case Member::kStreamOptions:
        stream_options_ = Kind::kOther;  // an array: wrong only when streaming
        return true;
      case Member::kOther:
        return true;
      default:
        return Refuse(ec);  // a model, stream, max_tokens or messages of the wrong type
    }
  }

  bool Leave() {
    --depth_;
    if (depth_ == 1) member_ = Member::kOther;
    return true;
  }

  // A scalar value: at the top of a member the checks read, or include_usage in stream_options.
  // `positive_integer`: an integer above zero, as max_tokens must be.
  bool Scalar(Kind kind, error_code& ec, bool positive_integer = false) {
    if (depth_ == 0) return Refuse(ec);  // not an object
    if (InOptions()) {
      if (option_include_usage_) include_usage_ = kind == Kind::kTrue;
      return true;
    }
    if (depth_ != 1) return true;
    switch (member_) {
      case Member::kModel:
        if (model_.empty()) return Refuse(ec);  // null, or not a string
        break;
      case Member::kMessages:
        return Refuse(ec);
      case Member::kStream:
        stream_ = kind;
        break;
      case Member::kStreamOptions:
        stream_options_ = kind == Kind::kNull ? Kind::kNull : Kind::kOther;
        break;
      case Member::kInput:
        input_ = kind == Kind::kNull ? Kind::kNull : Kind::kOther;
        break;
      case Member::kMaxTokens:
        max_tokens_positive_ = positive_integer;
        break;
      case Member::kOther:
        break;
    }
    member_ = Member::kOther;
    return true;
  }

  const Operation operation_;
  const ApiFormat format_;
  const std::string_view body_;
  size_t depth_ = 0;
  Member member_ = Member::kOther;  // the top-level member whose value is being read
  uint32_t seen_ = 0;              // bit per Member read, to refuse repeats
  std::string model_;
  size_t model_begin_ = 0;  // of the model's opening quote in body_
  bool messages_array_ = false;
  size_t messages_ = 0;
  Kind stream_ = Kind::kAbsent;
  Kind stream_options_ = Kind::kAbsent;
  Kind input_ = Kind::kAbsent;
  bool option_include_usage_ = false;  // the current stream_options key is include_usage
  int include_usage_seen_ = 0;
  bool include_usage_ = false;
  bool max_tokens_positive_ = false;
};

}  // namespace

std::optional<ClientRequestOutline> ScanClientRequest(Operation operation, ApiFormat format, std::string_view body) {
  json::basic_parser<Scanner> parser(JsonScanOptions(), operation, format, body);
  if (!ScanJson(parser, body)) return std::nullopt;
  return parser.handler().Outline();
}

}  // namespace llmesh::provider

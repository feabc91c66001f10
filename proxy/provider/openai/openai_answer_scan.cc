#include "proxy/provider/openai/openai_answer_scan.h"

#include <array>
#include <cmath>
#include <cstdint>

#include <boost/json/basic_parser_impl.hpp>

#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/json_scan.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// What a container is, by where it sits in the answer. The usage readers mirror
// ReadOpenAiUsage: `usage` at the top, or `x_groq.usage` (index 1) when that one has none.
enum class Place : uint8_t {
  kOther,              // nothing read inside
  kTop,                // the answer object
  kList,               // choices / data
  kChoice,             // an object in choices
  kDelta,              // a choice's delta (stream chunks)
  kToolCalls,          // a delta's tool_calls
  kGroq,               // x_groq
  kUsage,              // usage (or x_groq.usage)
  kPromptDetails,      // usage.prompt_tokens_details
  kCompletionDetails,  // usage.completion_tokens_details
};

// The members of one usage object that FromUsageObject reads; absent when missing or not a
// non-negative integer (UintField's rule).
struct UsageFields {
  bool present = false;  // the usage member is an object
  std::optional<uint64_t> prompt, completion, cache_hit, cached, reasoning;
  bool prompt_details = false, completion_details = false;
  uint32_t seen = 0;  // bit per member read, to refuse repeats
};

// Which number a key of a usage (or details) object names, as a bit of UsageFields::seen.
enum Field : uint32_t {
  kNoField = 0,
  kPromptTokens = 1,
  kCompletionTokens = 2,
  kCacheHit = 4,
  kPromptDetailsKey = 8,
  kCompletionDetailsKey = 16,
  kCachedTokens = 32,
  kReasoningTokens = 64,
};

class Scanner : public JsonScanHandler {
 public:
  Scanner(bool chat, bool chunk) : chat_(chat), chunk_(chunk) {}

  bool on_object_begin(error_code& ec) { return Enter(/*object=*/true, ec); }
  bool on_object_end(size_t, error_code&) { return Leave(0); }
  bool on_array_begin(error_code& ec) { return Enter(/*object=*/false, ec); }
  bool on_array_end(size_t size, error_code&) { return Leave(size); }
  // A key or string split into parts holds escapes (or is huge): where it matters, the tree decides.
  bool on_key_part(json::string_view, size_t, error_code& ec) { return Refuse(ec); }
  bool on_key(json::string_view key, size_t, error_code& ec) {
    return OnKey(std::string_view(key.data(), key.size()), ec);
  }
  bool on_string_part(json::string_view, size_t, error_code& ec) {
    return key_ == Key::kFinishReason ? Refuse(ec) : true;
  }
  // `size` is the whole string's length, parts included.
  bool on_string(json::string_view value, size_t size, error_code& ec) {
    if (depth_ == 0) return Refuse(ec);
    if (key_ == Key::kFinishReason) {
      if (size != value.size()) return Refuse(ec);
      const std::string_view reason(value.data(), value.size());
      // The reasons the decoders act on (a failure, a stop to rewrite) are the tree's to handle.
      if (reason == "insufficient_system_resource" || reason == "eos" || reason == "eos_token" ||
          (chunk_ && reason == "error")) {
        return Refuse(ec);
      }
      if (size > 0) content_ = true;
    } else if (key_ == Key::kContentText && size > 0) {
      content_ = true;
    }
    return Scalar(ec);
  }
  bool on_int64(int64_t value, json::string_view, error_code& ec) {
    if (value >= 0) Number(static_cast<uint64_t>(value));
    return Scalar(ec);
  }
  bool on_uint64(uint64_t value, json::string_view, error_code& ec) {
    Number(value);
    return Scalar(ec);
  }
  bool on_double(double value, json::string_view, error_code& ec) {
    // UintField takes a double with an integral value that fits int64 and is not negative.
    if (std::isfinite(value) && value == std::trunc(value) && value < 9223372036854775808.0 && value >= 0) {
      Number(static_cast<uint64_t>(value));
    }
    return Scalar(ec);
  }
  bool on_bool(bool, error_code& ec) { return Scalar(ec); }
  bool on_null(error_code& ec) { return Scalar(ec); }
  int lists() const { return lists_; }
  size_t list_size() const { return list_size_; }
  bool content() const { return content_; }
  const std::array<UsageFields, 2>& usage() const { return usage_; }

 private:
  enum class Key : uint8_t {
    kNone, kList, kUsage, kGroq, kFinishReason, kUsageField, kDelta, kContentText, kToolCalls, kFunctionCall
  };

  struct Frame {
    Place place;
    uint8_t usage;  // which UsageFields a usage place reads
    uint8_t seen;   // choice and delta members read so far (Key bits), to refuse repeats
  };

  // A container starts: where it sits follows from its parent and the key it is the value of.
  bool Enter(bool object, error_code& ec) {
    Frame frame{Place::kOther, 0, 0};
    if (depth_ == 0) {
      if (!object) return Refuse(ec);  // a wrapped error array, or no answer: the tree decides
      frame.place = Place::kTop;
    } else {
      const Frame& parent = Current();
      frame.usage = parent.usage;
      if (parent.place == Place::kTop && key_ == Key::kList) {
        if (object) return Refuse(ec);  // choices that are not an array
        frame.place = Place::kList;
      } else if (parent.place == Place::kList && object && chat_) {
        frame.place = Place::kChoice;
      } else if (parent.place == Place::kChoice && key_ == Key::kDelta && object) {
        frame.place = Place::kDelta;
      } else if (parent.place == Place::kDelta && key_ == Key::kToolCalls && !object) {
        frame.place = Place::kToolCalls;
      } else if (parent.place == Place::kDelta && key_ == Key::kFunctionCall && object) {
        content_ = true;
      } else if (parent.place == Place::kTop && key_ == Key::kUsage && object) {
        frame.place = Place::kUsage;
        frame.usage = 0;
        usage_[0].present = true;
      } else if (parent.place == Place::kTop && key_ == Key::kGroq && object) {
        frame.place = Place::kGroq;
      } else if (parent.place == Place::kGroq && key_ == Key::kUsage && object) {
        frame.place = Place::kUsage;
        frame.usage = 1;
        usage_[1].present = true;
      } else if (parent.place == Place::kUsage && key_ == Key::kUsageField && object) {
        if (field_ == kPromptDetailsKey) {
          frame.place = Place::kPromptDetails;
          usage_[parent.usage].prompt_details = true;
        } else if (field_ == kCompletionDetailsKey) {
          frame.place = Place::kCompletionDetails;
          usage_[parent.usage].completion_details = true;
        }
      }
    }
    // Only the first levels carry meaning; deeper containers are read past.
    if (depth_ < stack_.size()) stack_[depth_] = frame;
    ++depth_;
    key_ = Key::kNone;
    return true;
  }

  bool Leave(size_t size) {
    const Place place = Current().place;
    if (place == Place::kList) list_size_ = size;
    if (place == Place::kToolCalls && size > 0) content_ = true;
    --depth_;
    key_ = Key::kNone;
    return true;
  }

  Frame& Current() {
    deep_ = Frame{Place::kOther, 0, 0};
    return depth_ - 1 < stack_.size() ? stack_[depth_ - 1] : deep_;
  }
  const Frame& Current() const {
    static constexpr Frame kDeep{Place::kOther, 0, 0};
    return depth_ - 1 < stack_.size() ? stack_[depth_ - 1] : kDeep;
  }

  bool OnKey(std::string_view key, error_code& ec) {
    key_ = Key::kNone;
    field_ = kNoField;
    const Frame& frame = Current();
    switch (frame.place) {
      case Place::kTop:
        // An error envelope (nested or DashScope's flat frame) is the tree's to map.
        if (key == "error" || key == "code") return Refuse(ec);
        if (key == (chat_ ? "choices" : "data")) {
          if (++lists_ > 1) return Refuse(ec);
          key_ = Key::kList;
        } else if (key == "usage") {
          if (top_usage_seen_++) return Refuse(ec);
          key_ = Key::kUsage;
        } else if (key == "x_groq") {
          if (groq_seen_++) return Refuse(ec);
          key_ = Key::kGroq;
        }
        return true;
      case Place::kGroq:
        if (key == "usage") {
          if (groq_usage_seen_++) return Refuse(ec);
          key_ = Key::kUsage;
        }
        return true;
      case Place::kChoice:
        if (key == "finish_reason") return Member(Key::kFinishReason, 1, ec);
        if (key == "delta") return Member(Key::kDelta, 2, ec);
        return true;
      case Place::kDelta:
        // IsContentDelta (openai_stream_decoder.cc): text of any of these kinds, a tool call,
        // or a function call.
        if (key == "content") return Member(Key::kContentText, 1, ec);
        if (key == "refusal") return Member(Key::kContentText, 2, ec);
        if (key == "reasoning_content") return Member(Key::kContentText, 4, ec);
        if (key == "reasoning") return Member(Key::kContentText, 8, ec);
        if (key == "tool_calls") return Member(Key::kToolCalls, 16, ec);
        if (key == "function_call") return Member(Key::kFunctionCall, 32, ec);
        return true;
      case Place::kUsage:
        field_ = key == "prompt_tokens"               ? kPromptTokens
                 : key == "completion_tokens"         ? kCompletionTokens
                 : key == "prompt_cache_hit_tokens"   ? kCacheHit
                 : key == "prompt_tokens_details"     ? kPromptDetailsKey
                 : key == "completion_tokens_details" ? kCompletionDetailsKey
                                                      : kNoField;
        break;
      case Place::kPromptDetails:
        field_ = key == "cached_tokens" ? kCachedTokens : kNoField;
        break;
      case Place::kCompletionDetails:
        field_ = key == "reasoning_tokens" ? kReasoningTokens : kNoField;
        break;
      case Place::kList:
      case Place::kToolCalls:
      case Place::kOther:
        return true;
    }
    if (field_ != kNoField) {
      // The tree keeps the last of repeated members; refusing them keeps this reader simple.
      UsageFields& fields = usage_[frame.usage];
      if (fields.seen & field_) return Refuse(ec);
      fields.seen |= field_;
      key_ = Key::kUsageField;
    }
    return true;
  }

  // A choice or delta member the decoders read (`bit`: which one, within its object): the tree
  // keeps the last of repeated members, so a repeat is left to it.
  bool Member(Key key, uint8_t bit, error_code& ec) {
    Frame& frame = Current();
    if (frame.seen & bit) return Refuse(ec);
    frame.seen |= bit;
    key_ = key;
    return true;
  }

  void Number(uint64_t value) {
    if (key_ != Key::kUsageField) return;
    UsageFields& fields = usage_[Current().usage];
    switch (field_) {
      case kPromptTokens: fields.prompt = value; break;
      case kCompletionTokens: fields.completion = value; break;
      case kCacheHit: fields.cache_hit = value; break;
      case kCachedTokens: fields.cached = value; break;
      case kReasoningTokens: fields.reasoning = value; break;
      default: break;
    }
  }

  bool Scalar(error_code& ec) {
    if (depth_ == 0) return Refuse(ec);  // the answer is not an object
    if (key_ == Key::kList) return Refuse(ec);  // choices that are not an array
    key_ = Key::kNone;
    return true;
  }

  const bool chat_;
  const bool chunk_;
  std::array<Frame, 6> stack_{};
  Frame deep_{Place::kOther, 0, 0};  // stands for every container below stack_
  size_t depth_ = 0;
  Key key_ = Key::kNone;
  Field field_ = kNoField;
  int lists_ = 0;
  size_t list_size_ = 0;
  bool content_ = false;
  int top_usage_seen_ = 0;
  int groq_seen_ = 0;
  int groq_usage_seen_ = 0;
  std::array<UsageFields, 2> usage_{};
};

// FromUsageObject (openai_response.cc) over the fields read.
std::optional<Usage> ToUsage(const UsageFields& fields) {
  if (!fields.present || (!fields.prompt && !fields.completion)) return std::nullopt;
  Usage usage{fields.prompt.value_or(0), fields.completion.value_or(0)};
  if (fields.prompt_details) usage.cached_tokens = fields.cached.value_or(0);
  if (usage.cached_tokens == 0) usage.cached_tokens = fields.cache_hit.value_or(0);
  if (fields.completion_details) usage.reasoning_tokens = fields.reasoning.value_or(0);
  return usage;
}

// Runs a scanner over `text`; nullopt when the text is not valid JSON or the scanner refused.
std::optional<Scanner> Scan(std::string_view text, bool chat, bool chunk) {
  json::basic_parser<Scanner> parser(JsonScanOptions(), chat, chunk);
  if (!ScanJson(parser, text)) return std::nullopt;
  return parser.handler();
}

// ReadOpenAiUsage over the fields read.
std::optional<Usage> ReadUsage(const Scanner& scanner) {
  std::optional<Usage> usage = ToUsage(scanner.usage()[0]);
  if (!usage) usage = ToUsage(scanner.usage()[1]);
  return usage;
}

}  // namespace

std::optional<Usage> ScanOpenAiAnswer(std::string_view text, bool chat) {
  const std::optional<Scanner> scanner = Scan(text, chat, /*chunk=*/false);
  if (!scanner || scanner->lists() != 1) return std::nullopt;
  return ReadUsage(*scanner).value_or(Usage{});
}

std::optional<OpenAiChunkOutline> ScanOpenAiChunk(std::string_view data) {
  const std::optional<Scanner> scanner = Scan(data, /*chat=*/true, /*chunk=*/true);
  if (!scanner) return std::nullopt;
  OpenAiChunkOutline outline;
  outline.usage = ReadUsage(*scanner);
  outline.usage_object = scanner->usage()[0].present;
  outline.has_choices = scanner->lists() == 1 && scanner->list_size() > 0;
  outline.content = outline.has_choices && scanner->content();
  return outline;
}

}  // namespace llmesh::provider

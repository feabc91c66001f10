#include "common/http/head_lines.h"

#include <algorithm>
#include <array>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace llmesh::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

// The longest chunk-size or trailer line taken (extensions included).
constexpr size_t kMaxChunkLine = 4096;

constexpr std::array<bool, 256> TokenChars() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kTokenChar = TokenChars();

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// The first octet at or after `p` that a head's line cannot hold as it is (a control character
// other than the tab, or DEL: its CR is one), or `end`.
const char* FindControl(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i below_space = _mm_set1_epi8(0x1f);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i control =
        _mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab), _mm_cmpeq_epi8(_mm_min_epu8(bytes, below_space), bytes));
    const int mask = _mm_movemask_epi8(_mm_or_si128(control, _mm_cmpeq_epi8(bytes, del)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p != end; ++p) {
    const auto octet = static_cast<unsigned char>(*p);
    if ((octet < 0x20 && octet != '\t') || octet == 0x7f) return p;
  }
  return end;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The next line of chunk framing at the start of `bytes`; bad_chunk when it runs past
// kMaxChunkLine without ending.
error_code NextChunkLine(std::string_view bytes, std::string_view& line, size_t& size) {
  const char* p = bytes.data();
  const char* end = p + std::min(bytes.size(), kMaxChunkLine);
  const error_code ec = NextHeadLine(p, end, line);
  if (ec == bhttp::error::need_more && bytes.size() >= kMaxChunkLine) return bhttp::error::bad_chunk;
  size = static_cast<size_t>(p - bytes.data());
  return ec;
}

}  // namespace

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!kTokenChar[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool EqualsLowercase(std::string_view token, std::string_view lower) {
  if (token.size() != lower.size()) return false;
  // Setting bit 5 lowercases a letter; of the octets a token holds, only letters turn into
  // letters that way, and only '-' into '-'.
  for (size_t i = 0; i < token.size(); ++i) {
    if ((token[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

error_code NextHeadLine(const char*& line, const char* end, std::string_view& text) {
  const char* cr = FindControl(line, end);
  if (end - cr < 2) return bhttp::error::need_more;
  if (cr[0] != '\r' || cr[1] != '\n') return bhttp::error::bad_line_ending;
  text = std::string_view(line, static_cast<size_t>(cr - line));
  line = cr + 2;
  return {};
}

error_code SplitFieldLine(std::string_view line, std::string_view& name, std::string_view& value) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return bhttp::error::bad_field;
  // Every octet checked without branching on each: names are short and almost always valid.
  bool token = true;
  for (size_t i = 0; i < colon; ++i) token &= kTokenChar[static_cast<unsigned char>(line[i])];
  if (!token) return bhttp::error::bad_field;
  name = line.substr(0, colon);
  value = TrimSpace(line.substr(colon + 1));
  return {};
}

error_code BodyFraming::Take(std::string_view name, std::string_view value, bool& taken) {
  taken = false;
  if (EqualsLowercase(name, "content-length")) {
    taken = true;
    if (content_length) return bhttp::error::multiple_content_length;
    if (value.empty() || value.size() > 19) return bhttp::error::bad_content_length;
    uint64_t length = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return bhttp::error::bad_content_length;
      length = length * 10 + static_cast<uint64_t>(c - '0');
    }
    content_length = length;
  } else if (EqualsLowercase(name, "transfer-encoding")) {
    taken = true;
    transfer_encoding = true;
    return ForEachListElement(value, [this](std::string_view coding) -> error_code {
      if (chunked) return bhttp::error::bad_transfer_encoding;
      chunked = boost::beast::iequals(boost::beast::string_view(coding.data(), coding.size()), "chunked");
      return {};
    });
  }
  return {};
}

error_code ChunkedReader::Step(std::string_view bytes, size_t& used, std::string_view& piece) {
  used = 0;
  piece = {};
  for (;;) {
    const std::string_view rest = bytes.substr(used);
    // Out of bytes: a piece taken is this step's result, else more are needed.
    const error_code starved = piece.empty() ? error_code(bhttp::error::need_more) : error_code();
    switch (state_) {
      case State::kSize: {
        std::string_view line;
        size_t line_size = 0;
        if (error_code ec = NextChunkLine(rest, line, line_size)) {
          return ec == bhttp::error::need_more ? starved : error_code(bhttp::error::bad_chunk);
        }
        // chunk-size [BWS ; chunk-ext]: the size in hex, extensions ignored.
        size_t digits = 0;
        uint64_t size = 0;
        for (int digit; digits < line.size() && (digit = HexDigit(line[digits])) >= 0; ++digits) {
          if (size >> 60) return bhttp::error::bad_chunk;
          size = size * 16 + static_cast<uint64_t>(digit);
        }
        const std::string_view extension = TrimSpace(line.substr(digits));
        if (digits == 0 || (!extension.empty() && extension.front() != ';')) return bhttp::error::bad_chunk;
        used += line_size;
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        if (!piece.empty() || rest.empty()) return starved;
        const size_t size = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        piece = rest.substr(0, size);
        used += size;
        remaining_ -= size;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd:
        if (rest.size() < 2) return starved;
        if (rest[0] != '\r' || rest[1] != '\n') return bhttp::error::bad_chunk;
        used += 2;
        state_ = State::kSize;
        break;
      case State::kTrailer: {
        std::string_view line;
        size_t line_size = 0;
        if (error_code ec = NextChunkLine(rest, line, line_size)) {
          return ec == bhttp::error::need_more ? starved : error_code(bhttp::error::bad_chunk);
        }
        used += line_size;
        if (line.empty()) {
          state_ = State::kDone;
          return {};
        }
        std::string_view name, value;
        if (error_code ec = SplitFieldLine(line, name, value)) return ec;
        break;
      }
      case State::kDone:
        return {};
    }
  }
}

}  // namespace llmesh::http

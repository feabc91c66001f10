#include "proxy/provider/client_request_scan.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {
namespace {

struct Read {
  Operation operation;
  ApiFormat format;
  const char* body;
  const char* model;
  bool stream;
  bool include_usage;
};

constexpr Operation kChat = Operation::kChatCompletions;
constexpr Operation kEmbeddings = Operation::kEmbeddings;
constexpr ApiFormat kOpenAi = ApiFormat::kOpenAi;
constexpr ApiFormat kAnthropic = ApiFormat::kAnthropic;

// `body` with its model written twice: the one-pass reading leaves it to the tree, which reads
// the same request.
std::string ForTheTree(const std::string& body, const std::string& model) {
  return "{\"model\":\"" + model + "\"," + body.substr(body.find('{') + 1);
}

TEST(ScanClientRequestTest, ReadsWhatTheTreeReads) {
  const Read reads[] = {
      {kChat, kOpenAi, R"({"model":"fast","messages":[{"role":"user","content":"hi"}]})", "fast", false, false},
      {kChat, kOpenAi, R"({"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"model":"m"})", "m", false,
       false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":{"include_usage":true}})", "m",
       true, true},
      {kChat, kOpenAi,
       R"({"model":"m","messages":[1],"stream_options":{"x":[1,{"include_usage":false}],"include_usage":true},)"
       R"("stream":true})",
       "m", true, true},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":{"include_usage":false}})", "m",
       true, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":{"include_usage":"yes"}})", "m",
       true, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":{"include_usage":{"a":true}}})",
       "m", true, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":null})", "m", true, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true})", "m", true, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":null})", "m", false, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":false,"stream_options":"odd"})", "m", false, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream_options":[true]})", "m", false, false},
      {kChat, kOpenAi, R"({"model":"m","messages":[{"model":"inner","stream":"no","messages":[]}],"n":[[]]})", "m",
       false, false},
      {kChat, kOpenAi, R"( {"model":"m","messages":[[],{}]} )", "m", false, false},
      {kEmbeddings, kOpenAi, R"({"model":"e","input":"a"})", "e", false, false},
      {kEmbeddings, kOpenAi, R"({"model":"e","input":["a","b"],"stream":true})", "e", false, false},
      {kEmbeddings, kOpenAi, R"({"input":{"x":null},"model":"e","messages":"ignored"})", "e", false, false},
      {kChat, kAnthropic, R"({"model":"c","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]})", "c",
       false, false},
      {kChat, kAnthropic, R"({"model":"c","max_tokens":18446744073709551615,"messages":[1],"stream":true})", "c",
       true, true},
      // Escapes in keys and strings the checks do not read.
      {kChat, kOpenAi, R"({"model":"a","messages":[{"c\u006fntent":"\u0068i"}],"temp":"\n"})", "a", false,
       false},
  };
  for (const Read& read : reads) {
    SCOPED_TRACE(read.body);
    const std::optional<ClientRequestOutline> outline = ScanClientRequest(read.operation, read.format, read.body);
    ASSERT_TRUE(outline.has_value());
    EXPECT_EQ(outline->model, read.model);
    EXPECT_EQ(outline->stream, read.stream);
    EXPECT_EQ(outline->include_usage, read.include_usage);

    const absl::StatusOr<ClientRequest> tree =
        ParseClientRequest(read.operation, ForTheTree(read.body, read.model), read.format);
    ASSERT_TRUE(tree.ok()) << tree.status();
    ASSERT_FALSE(tree->body.empty());  // the tree path was taken
    EXPECT_EQ(tree->model, read.model);
    EXPECT_EQ(tree->stream, read.stream);
    EXPECT_EQ(tree->include_usage, read.include_usage);
  }
}

struct Left {
  Operation operation;
  ApiFormat format;
  const char* body;
};

TEST(ScanClientRequestTest, LeavesToTheTreeWhatItCannotDecide) {
  const Left lefts[] = {
      // Not a usable request: the tree path words the error.
      {kChat, kOpenAi, R"({"model":"m","messages":[1]})"
                       " x"},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],})"},
      {kChat, kOpenAi, R"({"model":"m","messages":[1] /* c */})"},
      {kChat, kOpenAi, R"([{"model":"m","messages":[1]}])"},
      {kChat, kOpenAi, R"("model")"},
      {kChat, kOpenAi, R"({"messages":[1]})"},
      {kChat, kOpenAi, R"({"model":null,"messages":[1]})"},
      {kChat, kOpenAi, R"({"model":7,"messages":[1]})"},
      {kChat, kOpenAi, R"({"model":["m"],"messages":[1]})"},
      {kChat, kOpenAi, R"({"model":"","messages":[1]})"},
      {kChat, kOpenAi, R"({"model":"m"})"},
      {kChat, kOpenAi, R"({"model":"m","messages":[]})"},
      {kChat, kOpenAi, R"({"model":"m","messages":{"role":"user"}})"},
      {kChat, kOpenAi, R"({"model":"m","messages":"hi"})"},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":"yes"})"},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":{}})"},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":"x"})"},
      {kChat, kOpenAi, R"({"model":"m","messages":[1],"stream":true,"stream_options":[]})"},
      {kEmbeddings, kOpenAi, R"({"model":"e"})"},
      {kEmbeddings, kOpenAi, R"({"model":"e","input":null})"},
      {kChat, kAnthropic, R"({"model":"c","messages":[1]})"},
      {kChat, kAnthropic, R"({"model":"c","messages":[1],"max_tokens":0})"},
      {kChat, kAnthropic, R"({"model":"c","messages":[1],"max_tokens":-5})"},
      {kChat, kAnthropic, R"({"model":"c","messages":[1],"max_tokens":1.5})"},
      {kChat, kAnthropic, R"({"model":"c","messages":[1],"max_tokens":"5"})"},
      {kChat, kAnthropic, R"({"model":"c","messages":[1],"max_tokens":5,"stream":1})"},
      // Valid, but read the tree's way: a member read written twice, escapes in a key or the model.
      {kChat, kOpenAi, R"({"model":"a","messages":[1],"model":"b"})"},
      {kChat, kOpenAi, R"({"model":"a","messages":[1],"stream":false,"stream":true})"},
      {kChat, kOpenAi, R"({"model":"a","messages":[1],"stream":true,"stream_options":{},"stream_options":{}})"},
      {kChat, kOpenAi,
       R"({"model":"a","messages":[1],"stream":true,"stream_options":{"include_usage":true,"include_usage":false}})"},
      {kChat, kOpenAi, R"({"mod\u0065l":"a","messages":[1]})"},
      {kChat, kOpenAi, R"({"model":"a\u0062","messages":[1]})"},
      {kChat, kOpenAi, R"({"model":"a","messages":[1],"stream":true,"stream_options":{"include_\u0075sage":true}})"},
  };
  for (const Left& left : lefts) {
    SCOPED_TRACE(left.body);
    EXPECT_FALSE(ScanClientRequest(left.operation, left.format, left.body).has_value());
  }
}

TEST(ScanClientRequestTest, RefusesNestingDeeperThanTheTreeAllows) {
  std::string deep = R"({"model":"m","messages":[1],"tools":)";
  for (int i = 0; i < 200; ++i) deep += "[";
  for (int i = 0; i < 200; ++i) deep += "]";
  deep += "}";
  EXPECT_FALSE(ScanClientRequest(kChat, kOpenAi, deep).has_value());
  EXPECT_FALSE(ParseClientRequest(kChat, deep).ok());
}

}  // namespace
}  // namespace llmesh::provider

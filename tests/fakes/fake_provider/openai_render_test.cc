#include "tests/fakes/fake_provider/openai_render.h"

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace llmesh::fakes {
namespace {

namespace json = boost::json;

// What an SDK does with a base64 embedding: float32 from each 4 little-endian bytes.
std::vector<float> DecodeFloat32LittleEndian(const json::value& embedding) {
  std::string bytes;
  EXPECT_TRUE(absl::Base64Unescape(std::string(embedding.as_string()), &bytes));
  EXPECT_EQ(bytes.size() % sizeof(float), 0u);
  std::vector<float> floats;
  for (size_t i = 0; i + sizeof(float) <= bytes.size(); i += sizeof(float)) {
    uint32_t bits = 0;
    for (size_t b = 0; b < sizeof(float); ++b) {
      bits |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + b])) << (8 * b);
    }
    floats.push_back(std::bit_cast<float>(bits));
  }
  return floats;
}

// What a JavaScript client does with a float embedding: read a double, narrow to float32.
std::vector<float> ReadFloatArray(const json::value& embedding) {
  std::vector<float> floats;
  for (const json::value& number : embedding.as_array()) {
    floats.push_back(static_cast<float>(number.to_number<double>()));
  }
  return floats;
}

std::vector<float> AsVector(const std::array<float, kEmbeddingDimensions>& vector) {
  return {vector.begin(), vector.end()};
}

TEST(EmbeddingVectorTest, IsDeterministicPerItemAndWithinUnitRange) {
  EXPECT_EQ(EmbeddingVector("one"), EmbeddingVector("one"));
  EXPECT_NE(EmbeddingVector("one"), EmbeddingVector("two"));
  for (float component : EmbeddingVector("one")) {
    EXPECT_GE(component, -1.0f);
    EXPECT_LE(component, 1.0f);
  }
}

TEST(OpenAiRendererEmbeddingsTest, FloatEncodingIsExactJsonArrays) {
  const OpenAiRenderer renderer(FakeProviderOptions{});
  EXPECT_EQ(renderer.Embeddings("emb", {"one"}, EmbeddingEncoding::kFloat, 4),
            R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":)"
            R"([-0.99215686,0.8117647,0.75686276,-0.5137255,-0.3647059,0.4509804,)"
            R"(-0.73333335,-0.56078434]}],"model":"emb",)"
            R"("usage":{"prompt_tokens":4,"total_tokens":4}})");
}

TEST(OpenAiRendererEmbeddingsTest, Base64EncodingIsFloat32LittleEndianBytes) {
  const OpenAiRenderer renderer(FakeProviderOptions{});
  EXPECT_EQ(renderer.Embeddings("emb", {"one", "two"}, EmbeddingEncoding::kBase64, 5),
            R"({"object":"list","data":[)"
            R"({"object":"embedding","index":0,"embedding":)"
            R"("/v19v9DPTz/CwUE/hIMDv7u6ur7n5uY+vLs7v5CPD78="},)"
            R"({"object":"embedding","index":1,"embedding":)"
            R"("ubi4PeHg4Lywry8/ycjIvbu6ur63tra+iIcHv7W0ND4="}],"model":"emb",)"
            R"("usage":{"prompt_tokens":5,"total_tokens":5}})");
}

// Enough items to hit nearly every one of the 256 component values: both encodings must give
// a client the same float32 vector, the one EmbeddingVector defines.
TEST(OpenAiRendererEmbeddingsTest, BothEncodingsDecodeToTheSameFloat32Vectors) {
  const OpenAiRenderer renderer(FakeProviderOptions{});
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(absl::StrCat("input number ", i));
  const std::vector<std::string_view> items(texts.begin(), texts.end());

  const json::value floats =
      json::parse(renderer.Embeddings("m", items, EmbeddingEncoding::kFloat, 1));
  const json::value base64 =
      json::parse(renderer.Embeddings("m", items, EmbeddingEncoding::kBase64, 1));
  ASSERT_EQ(floats.at("data").as_array().size(), items.size());
  ASSERT_EQ(base64.at("data").as_array().size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    const std::vector<float> expected = AsVector(EmbeddingVector(items[i]));
    EXPECT_EQ(ReadFloatArray(floats.at("data").at(i).at("embedding")), expected);
    EXPECT_EQ(DecodeFloat32LittleEndian(base64.at("data").at(i).at("embedding")), expected);
    EXPECT_EQ(base64.at("data").at(i).at("index").to_number<size_t>(), i);
  }
}

}  // namespace
}  // namespace llmesh::fakes

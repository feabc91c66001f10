#include "proxy/provider/common/json_members.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::vector<std::pair<std::string, std::string>> Split(std::string_view text) {
  JsonMembers members;
  EXPECT_TRUE(SplitTopLevelMembers(text, members)) << text;
  std::vector<std::pair<std::string, std::string>> out;
  for (const JsonMember& m : members) out.emplace_back(std::string(m.key), std::string(m.value));
  return out;
}

TEST(SplitTopLevelMembersTest, SplitsMembersKeepingValueTextAsWritten) {
  EXPECT_THAT(Split(R"( { "a" : 1.0 , "b":[1, {"c":"}"}], "d":"x\"}{" ,"e":null,"f":{} } )"),
              ElementsAre(Pair(R"("a")", "1.0"), Pair(R"("b")", R"([1, {"c":"}"}])"),
                          Pair(R"("d")", R"("x\"}{")"), Pair(R"("e")", "null"),
                          Pair(R"("f")", "{}")));
}

TEST(SplitTopLevelMembersTest, AcceptsAnEmptyObject) {
  EXPECT_TRUE(Split(" {} ").empty());
}

TEST(SplitTopLevelMembersTest, RejectsTextThatIsNotAnObject) {
  JsonMembers members;
  for (const char* text : {"", "[]", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x",
                           "{\"a\":[1}", "{\"a\":\"x}", "{\"a\":1 \"b\":2}", "{a:1}"}) {
    EXPECT_FALSE(SplitTopLevelMembers(text, members)) << text;
  }
}

TEST(KeyIsTest, ComparesPlainAndEscapedKeys) {
  EXPECT_TRUE(KeyIs(R"("model")", "model"));
  EXPECT_TRUE(KeyIs(R"("mod\u0065l")", "model"));
  EXPECT_FALSE(KeyIs(R"("models")", "model"));
  EXPECT_FALSE(KeyIs(R"("mod\u0065")", "model"));
  EXPECT_FALSE(KeyIs("\"", "model"));
}

}  // namespace
}  // namespace llmesh::provider

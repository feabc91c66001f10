#include "common/config/env.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/common/config/fake_env.h"

namespace llmesh::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Expand(std::string_view text, std::vector<std::string>* problems) {
  return ExpandEnvReferences(text, FakeEnv({{"HOST", "gw"}, {"EMPTY", ""}}), problems);
}

TEST(ExpandEnvReferencesTest, ReplacesReferences) {
  std::vector<std::string> problems;
  EXPECT_EQ(Expand("https://${HOST}:443/${HOST}", &problems), "https://gw:443/gw");
  EXPECT_THAT(problems, IsEmpty());
}

TEST(ExpandEnvReferencesTest, LeavesTextWithoutReferencesAlone) {
  std::vector<std::string> problems;
  EXPECT_EQ(Expand("cost $5 and $$ and $HOST", &problems), "cost $5 and $$ and $HOST");
  EXPECT_THAT(problems, IsEmpty());
}

TEST(ExpandEnvReferencesTest, UsesDefaultWhenUnsetOrEmpty) {
  std::vector<std::string> problems;
  EXPECT_EQ(Expand("${MISSING:-fallback}", &problems), "fallback");
  EXPECT_EQ(Expand("${EMPTY:-fallback}", &problems), "fallback");
  EXPECT_EQ(Expand("${HOST:-fallback}", &problems), "gw");
  EXPECT_EQ(Expand("${MISSING:-}", &problems), "");
  EXPECT_THAT(problems, IsEmpty());
}

TEST(ExpandEnvReferencesTest, EmptyValueWithoutDefaultIsKept) {
  std::vector<std::string> problems;
  EXPECT_EQ(Expand("[${EMPTY}]", &problems), "[]");
  EXPECT_THAT(problems, IsEmpty());
}

TEST(ExpandEnvReferencesTest, DoubleDollarEscapesAReference) {
  std::vector<std::string> problems;
  EXPECT_EQ(Expand("$${HOST} ${HOST}", &problems), "${HOST} gw");
  EXPECT_THAT(problems, IsEmpty());
}

TEST(ExpandEnvReferencesTest, ReportsEveryUnsetVariable) {
  std::vector<std::string> problems;
  Expand("${A}/${HOST}/${B}", &problems);
  EXPECT_THAT(problems, ElementsAre("environment variable \"A\" is not set",
                                    "environment variable \"B\" is not set"));
}

TEST(ExpandEnvReferencesTest, ReportsMalformedReferences) {
  std::vector<std::string> problems;
  Expand("${1X} ${} ${HOST", &problems);
  EXPECT_THAT(problems,
              ElementsAre("invalid environment variable name \"1X\" in \"${1X}\"",
                          "invalid environment variable name \"\" in \"${}\"",
                          "unterminated variable reference \"${HOST\" (missing \"}\")"));
}

}  // namespace
}  // namespace llmesh::config

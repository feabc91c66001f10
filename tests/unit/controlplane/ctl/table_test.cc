#include "controlplane/ctl/table.h"

#include <sstream>

#include "gtest/gtest.h"

namespace llmesh::control::ctl {
namespace {

TEST(TableTest, PadsEveryColumnToItsWidestCellAndTrimsTrailingBlanks) {
  Table table({"NAME", "KIND", "NOTE"});
  table.AddRow({"primary", "openai", ""});
  table.AddRow({"b", "anthropic", "x"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "NAME     KIND       NOTE\n"
            "primary  openai\n"
            "b        anthropic  x\n");
}

TEST(TableTest, HeaderAloneIsOneLine) {
  std::ostringstream out;
  Table({"NODE", "STATUS"}).Print(out);
  EXPECT_EQ(out.str(), "NODE  STATUS\n");
}

}  // namespace
}  // namespace llmesh::control::ctl

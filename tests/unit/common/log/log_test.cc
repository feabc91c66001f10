#include "common/log/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "boost/json.hpp"
#include "gtest/gtest.h"

namespace llmesh::log {
namespace {

// 2026-11-24T06:30:00.123Z
const std::chrono::system_clock::time_point kTime =
    std::chrono::system_clock::time_point(std::chrono::milliseconds(1795501800123));

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Points the log at a fresh temp file for one test and restores the previous state after.
class LogOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "llmesh_log_XXXXXX";
    fd_ = ::mkstemp(path_.data());
    ASSERT_GE(fd_, 0);
    // O_APPEND, as stderr usually is when redirected to a file, so writes never overlap.
    ::fcntl(fd_, F_SETFL, O_APPEND);
    previous_fd_ = SetOutputFdForTesting(fd_);
    previous_level_ = MinLevel();
  }
  void TearDown() override {
    SetOutputFdForTesting(previous_fd_);
    SetMinLevel(previous_level_);
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  std::string path_;
  int fd_ = -1;
  int previous_fd_ = 2;
  Level previous_level_ = Level::kInfo;
};

TEST(LogFormatTest, WritesTsLevelMsgThenFieldsInOrder) {
  EXPECT_EQ(FormatLine(kTime, Level::kInfo, "listening",
                       {{"listener", "proxy"}, {"address", std::string("127.0.0.1:40123")}}),
            "{\"ts\":\"2026-11-24T06:30:00.123Z\",\"level\":\"info\",\"msg\":\"listening\","
            "\"listener\":\"proxy\",\"address\":\"127.0.0.1:40123\"}\n");
}

TEST(LogFormatTest, WritesNumbersAndBoolsUnquoted) {
  EXPECT_EQ(FormatLine(kTime, Level::kWarn, "m",
                       {{"port", uint16_t{4000}},
                        {"delta", -3},
                        {"max", std::numeric_limits<uint64_t>::max()},
                        {"ratio", 0.25},
                        {"nan", std::numeric_limits<double>::quiet_NaN()},
                        {"ready", true}}),
            "{\"ts\":\"2026-11-24T06:30:00.123Z\",\"level\":\"warn\",\"msg\":\"m\","
            "\"port\":4000,\"delta\":-3,\"max\":18446744073709551615,\"ratio\":0.25,"
            "\"nan\":null,\"ready\":true}\n");
}

TEST(LogFormatTest, EscapesStringsAndReplacesInvalidUtf8) {
  EXPECT_EQ(FormatLine(kTime, Level::kError, "bad \"x\"\n",
                       {{"path", "a\\b\t\x01"}, {"name", "caf\xC3\xA9 \xFF\xC3"}}),
            "{\"ts\":\"2026-11-24T06:30:00.123Z\",\"level\":\"error\","
            "\"msg\":\"bad \\\"x\\\"\\n\",\"path\":\"a\\\\b\\t\\u0001\","
            "\"name\":\"caf\xC3\xA9 \\ufffd\\ufffd\"}\n");
}

TEST(LogFormatTest, ParsesLevelNames) {
  EXPECT_EQ(ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(ParseLevel("warning"), Level::kWarn);
  EXPECT_EQ(ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("loud"), std::nullopt);
  EXPECT_EQ(LevelName(Level::kWarn), "warn");
}

TEST_F(LogOutputTest, DropsLinesBelowTheMinimumLevel) {
  SetMinLevel(Level::kWarn);
  Log(Level::kInfo, "quiet");
  Log(Level::kWarn, "loud", {{"n", 1}});
  const std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  const boost::json::object line = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(line.at("level").as_string(), "warn");
  EXPECT_EQ(line.at("msg").as_string(), "loud");
  EXPECT_EQ(line.at("n").as_int64(), 1);
}

TEST_F(LogOutputTest, LinesFromManyThreadsStayWhole) {
  constexpr int kThreads = 4;
  constexpr int kLines = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      const std::string padding(200, 'x');
      for (int i = 0; i < kLines; ++i) {
        Log(Level::kInfo, "tick", {{"thread", t}, {"i", i}, {"padding", padding}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  std::vector<int> next(kThreads, 0);
  for (const std::string& text : lines) {
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    const boost::json::object& line = value.as_object();
    const int64_t t = line.at("thread").as_int64();
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    EXPECT_EQ(line.at("i").as_int64(), next[t]++);
  }
}

}  // namespace
}  // namespace llmesh::log

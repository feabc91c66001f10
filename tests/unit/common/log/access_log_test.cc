#include "common/log/access_log.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
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

// A path in the test temp dir that does not exist yet; removed at the end of the test.
class TempPath {
 public:
  TempPath() {
    path_ = ::testing::TempDir() + "llmesh_access_XXXXXX";
    const int fd = ::mkstemp(path_.data());
    if (fd >= 0) ::close(fd);
    ::unlink(path_.c_str());
  }
  ~TempPath() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

AccessRecord SampleRecord() {
  AccessRecord r;
  r.request_id = "req-1";
  r.route = "chat";
  r.provider = "openai";
  r.model = "gpt-4o";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.status = 200;
  r.attempts = 2;
  r.latency_ms = 812.3456;
  r.ttft_ms = 95.5;
  r.prompt_tokens = 12;
  r.completion_tokens = 40;
  r.cost_usd = 0.00031;
  r.stream = true;
  return r;
}

AccessLogOptions NoPeriodicFlush(size_t ring_bytes = 1 << 20) {
  AccessLogOptions options;
  options.ring_bytes = ring_bytes;
  // Only Flush() and the destructor drain: makes ring occupancy deterministic.
  options.flush_interval = std::chrono::hours(1);
  return options;
}

TEST(AccessLineTest, FormatsAllFieldsInOrder) {
  std::string line;
  TimestampFormatter formatter;
  AppendAccessLine(&line, SampleRecord(), kTime, &formatter);
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-24T06:30:00.123Z\",\"request_id\":\"req-1\",\"route\":\"chat\","
            "\"provider\":\"openai\",\"model\":\"gpt-4o\",\"method\":\"POST\","
            "\"path\":\"/v1/chat/completions\",\"status\":200,\"attempts\":2,"
            "\"latency_ms\":812.346,\"ttft_ms\":95.500,\"prompt_tokens\":12,"
            "\"completion_tokens\":40,\"cost_usd\":0.00031,\"stream\":true,\"error\":null}\n");
}

TEST(AccessLineTest, WritesNullForMissingTtftAndTheErrorKindWhenSet) {
  AccessRecord r = SampleRecord();
  r.status = 503;
  r.ttft_ms = -1;
  r.stream = false;
  r.error = "overloaded";
  std::string line;
  TimestampFormatter formatter;
  AppendAccessLine(&line, r, kTime, &formatter);
  const boost::json::object json = boost::json::parse(line).as_object();
  EXPECT_TRUE(json.at("ttft_ms").is_null());
  EXPECT_EQ(json.at("error").as_string(), "overloaded");
  EXPECT_EQ(json.at("stream").as_bool(), false);
  EXPECT_EQ(json.at("status").as_int64(), 503);
}

TEST(AccessLineTest, EscapesClientControlledStrings) {
  AccessRecord r = SampleRecord();
  r.request_id = "id\"with\\quote\nand\x02";
  r.model = "gpt\xFF";
  r.path = "/v1/chat/completions?x=\"1\"";
  std::string line;
  TimestampFormatter formatter;
  AppendAccessLine(&line, r, kTime, &formatter);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(line, ec);
  ASSERT_FALSE(ec) << line;
  EXPECT_EQ(value.at("request_id").as_string(), "id\"with\\quote\nand\x02");
  EXPECT_EQ(value.at("model").as_string(), "gpt\xEF\xBF\xBD");
  EXPECT_EQ(value.at("path").as_string(), "/v1/chat/completions?x=\"1\"");
}

TEST(AccessLogTest, LinesFromTwoWorkersAllArriveIntact) {
  constexpr int kWorkers = 2;
  constexpr int kLines = 5000;
  TempPath file;
  {
    AccessLogOptions options;
    // Room for every line even if the flusher never ran, so the result does not depend on
    // scheduling; a short interval makes the flusher drain while the workers write.
    options.ring_bytes = 4 << 20;
    options.flush_interval = std::chrono::milliseconds(1);
    absl::StatusOr<std::unique_ptr<AccessLog>> log =
        AccessLog::Open(file.path(), kWorkers, options);
    ASSERT_TRUE(log.ok()) << log.status();
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        AccessLog::Writer& writer = (*log)->writer(w);
        const std::string route = "worker-" + std::to_string(w);
        for (int i = 0; i < kLines; ++i) {
          const std::string id = std::to_string(i);
          AccessRecord r = SampleRecord();
          r.route = route;
          r.request_id = id;
          writer.Write(r);
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    EXPECT_EQ((*log)->dropped(), 0u);
    (*log)->Flush();
  }
  const std::vector<std::string> lines = ReadLines(file.path());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kWorkers * kLines));
  std::vector<int> next(kWorkers, 0);
  for (const std::string& text : lines) {
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    const std::string route(value.at("route").as_string());
    const int w = route == "worker-0" ? 0 : 1;
    ASSERT_EQ(route, "worker-" + std::to_string(w));
    // Each worker's lines arrive complete and in the order it wrote them.
    EXPECT_EQ(value.at("request_id").as_string(), std::to_string(next[w]++));
    EXPECT_EQ(value.at("provider").as_string(), "openai");
  }
  EXPECT_EQ(next, (std::vector<int>{kLines, kLines}));
}

TEST(AccessLogTest, CountsDropsWhenTheRingIsFullAndNeverBlocks) {
  TempPath file;
  std::string sample;
  TimestampFormatter formatter;
  AppendAccessLine(&sample, SampleRecord(), kTime, &formatter);
  constexpr size_t kRingBytes = 4096;
  const size_t fit = kRingBytes / sample.size();
  constexpr size_t kWrites = 100;

  absl::StatusOr<std::unique_ptr<AccessLog>> log =
      AccessLog::Open(file.path(), 1, NoPeriodicFlush(kRingBytes));
  ASSERT_TRUE(log.ok()) << log.status();
  for (size_t i = 0; i < kWrites; ++i) (*log)->writer(0).Write(SampleRecord());
  EXPECT_EQ((*log)->writer(0).dropped(), kWrites - fit);
  EXPECT_EQ((*log)->dropped(), kWrites - fit);

  (*log)->Flush();
  EXPECT_EQ(ReadLines(file.path()).size(), fit);
  // Draining made room again.
  (*log)->writer(0).Write(SampleRecord());
  (*log)->Flush();
  EXPECT_EQ(ReadLines(file.path()).size(), fit + 1);
  EXPECT_EQ((*log)->dropped(), kWrites - fit);
}

TEST(AccessLogTest, AppendsToAnExistingFile) {
  TempPath file;
  {
    std::ofstream out(file.path());
    out << "earlier\n";
  }
  {
    absl::StatusOr<std::unique_ptr<AccessLog>> log =
        AccessLog::Open(file.path(), 1, NoPeriodicFlush());
    ASSERT_TRUE(log.ok()) << log.status();
    (*log)->writer(0).Write(SampleRecord());
  }  // The destructor drains.
  const std::vector<std::string> lines = ReadLines(file.path());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "earlier");
  EXPECT_EQ(boost::json::parse(lines[1]).at("request_id").as_string(), "req-1");
}

TEST(AccessLogTest, OffRecordsNothing) {
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open("off", 2, NoPeriodicFlush());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE((*log)->enabled());
  (*log)->writer(1).Write(SampleRecord());
  (*log)->Flush();
  EXPECT_EQ((*log)->dropped(), 0u);
}

TEST(AccessLogTest, ReopenMovesLaterLinesToTheNewDestination) {
  TempPath first;
  TempPath second;
  absl::StatusOr<std::unique_ptr<AccessLog>> log =
      AccessLog::Open(first.path(), 1, NoPeriodicFlush());
  ASSERT_TRUE(log.ok()) << log.status();
  (*log)->writer(0).Write(SampleRecord());
  ASSERT_TRUE((*log)->Reopen(second.path()).ok());
  AccessRecord r = SampleRecord();
  r.request_id = "req-2";
  (*log)->writer(0).Write(r);
  (*log)->Flush();
  EXPECT_EQ(ReadLines(first.path()).size(), 1u);
  const std::vector<std::string> lines = ReadLines(second.path());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(boost::json::parse(lines[0]).at("request_id").as_string(), "req-2");

  ASSERT_TRUE((*log)->Reopen("off").ok());
  EXPECT_FALSE((*log)->enabled());
  (*log)->writer(0).Write(r);
  (*log)->Flush();
  EXPECT_EQ(ReadLines(second.path()).size(), 1u);
}

TEST(AccessLogTest, OpenReportsBadPathsAndZeroWorkers) {
  absl::StatusOr<std::unique_ptr<AccessLog>> missing =
      AccessLog::Open("/nonexistent-dir/llmesh/access.log", 1);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            "access_log.path: cannot open \"/nonexistent-dir/llmesh/access.log\": "
            "No such file or directory");
  EXPECT_EQ(AccessLog::Open("-", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmesh::log

// The telemetry reporter over real gRPC on loopback, against a scriptable TelemetryService that
// records every report, and against the control plane's own TelemetryServer and aggregator:
// the first report is empty and names the node, the interval of the ack is honoured, the
// figures recorded on the workers arrive exactly once (never resent after a broken stream),
// and Stop sends what was recorded since the last report. Waits are on conditions with a
// deadline; worker records are posted onto the workers' io_contexts, as the executor records.
#include "proxy/xds/telemetry_reporter.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

#include "common/http/io_workers.h"
#include "controlplane/telemetry/telemetry_aggregator.h"
#include "controlplane/telemetry/telemetry_server.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"

namespace llmesh::xds {
namespace {

namespace tv1 = llmesh::telemetry::v1;
using provider::FailureKind;
using std::chrono::milliseconds;

constexpr auto kWait = std::chrono::seconds(15);

// A TelemetryService that records every report it reads and acks it with `interval`, except
// that it can end one stream at the first non-empty report without acking it.
class FakeTelemetryService final : public tv1::TelemetryService::Service {
 public:
  explicit FakeTelemetryService(milliseconds interval) : interval_(interval) {}

  grpc::Status Report(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<tv1::TelemetryAck, tv1::TelemetryReport>* stream) override {
    int stream_index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_index = streams_++;
    }
    tv1::TelemetryReport report;
    while (stream->Read(&report)) {
      bool drop = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        reports_.push_back(Received{report, stream_index});
        if (drop_next_nonempty_ && report.targets_size() > 0) {
          drop_next_nonempty_ = false;
          drop = true;
        }
        cv_.notify_all();
      }
      if (drop) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped without an ack");
      tv1::TelemetryAck ack;
      ack.set_sequence(report.sequence());
      ack.mutable_report_interval()->set_seconds(interval_.count() / 1000);
      ack.mutable_report_interval()->set_nanos(static_cast<int32_t>(interval_.count() % 1000 * 1'000'000));
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  struct Received {
    tv1::TelemetryReport report;
    int stream;
  };

  // Ends the stream at the next report with targets, without acking it.
  void DropNextNonEmptyReport() {
    std::lock_guard<std::mutex> lock(mu_);
    drop_next_nonempty_ = true;
  }

  // Every report once `done` holds for them; fails the test after kWait.
  std::vector<Received> WaitFor(const std::function<bool(const std::vector<Received>&)>& done) {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, kWait, [&] { return done(reports_); }))
        << "condition not met after " << reports_.size() << " reports";
    return reports_;
  }
  std::vector<Received> WaitForReports(size_t n) {
    return WaitFor([n](const std::vector<Received>& r) { return r.size() >= n; });
  }
  std::vector<Received> reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }

 private:
  const milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> reports_;
  int streams_ = 0;
  bool drop_next_nonempty_ = false;
};

// Sums of one provider model over a list of reports.
struct Totals {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t rate_limited = 0;
  uint64_t timeouts = 0;
  uint64_t retries = 0;
  uint64_t input_tokens = 0;
  uint64_t cached_input_tokens = 0;
  uint64_t cost_nano_usd = 0;
  uint64_t latency_count = 0;
  double latency_sum_us = 0;
  uint64_t ttft_count = 0;
};

Totals Sum(const std::vector<FakeTelemetryService::Received>& reports, const std::string& provider,
           const std::string& model) {
  Totals totals;
  for (const auto& received : reports) {
    for (const tv1::TargetStats& t : received.report.targets()) {
      if (t.provider() != provider || t.model() != model) continue;
      totals.attempts += t.attempts();
      totals.successes += t.successes();
      totals.rate_limited += t.errors().rate_limited();
      totals.timeouts += t.errors().timeout();
      totals.retries += t.retries();
      totals.input_tokens += t.input_tokens();
      totals.cached_input_tokens += t.cached_input_tokens();
      totals.cost_nano_usd += t.cost_nano_usd();
      totals.latency_count += t.latency().count();
      totals.latency_sum_us += t.latency().sum_us();
      totals.ttft_count += t.time_to_first_token().count();
    }
  }
  return totals;
}

int64_t Nanos(const google::protobuf::Timestamp& t) { return t.seconds() * 1'000'000'000 + t.nanos(); }

AttemptOutcome Success(int64_t latency_ms, int64_t cost_nano = 0) {
  AttemptOutcome outcome;
  outcome.latency = std::chrono::milliseconds(latency_ms);
  outcome.cost_nano_usd = static_cast<uint64_t>(cost_nano);
  return outcome;
}

AttemptOutcome Failure(FailureKind kind) {
  AttemptOutcome outcome;
  outcome.result = AttemptOutcome::Result::kFailure;
  outcome.failure = kind;
  return outcome;
}

// Worker threads, each with its accumulator, as llmesh-proxy's listener has them.
class Workers {
 public:
  explicit Workers(size_t n) : io_(n), accumulators_(n) {
    for (auto& accumulator : accumulators_) accumulator = std::make_unique<TelemetryAccumulator>();
    io_.Start();
  }
  ~Workers() {
    io_.Stop();
    io_.Join();
  }

  std::vector<TelemetrySource> sources() {
    std::vector<TelemetrySource> sources;
    for (size_t i = 0; i < accumulators_.size(); ++i) sources.push_back({&io_.context(i), accumulators_[i].get()});
    return sources;
  }

  // Records `n` times on worker `i`'s thread, all between two collections, and returns once
  // they are recorded.
  void Record(size_t i, const std::string& provider, const std::string& model, const AttemptOutcome& outcome,
              int n = 1) {
    std::promise<void> done;
    boost::asio::post(io_.context(i), [&] {
      for (int k = 0; k < n; ++k) accumulators_[i]->Record(provider, model, outcome);
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(kWait), std::future_status::ready);
  }

 private:
  http::IoWorkers io_;
  std::vector<std::unique_ptr<TelemetryAccumulator>> accumulators_;
};

// A gRPC server on 127.0.0.1:0 hosting `service`.
class Server {
 public:
  explicit Server(grpc::Service& service) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service);
    server_ = builder.BuildAndStart();
  }
  ~Server() { Stop(); }
  void Stop() {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
    server_.reset();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TelemetryReporterOptions Options(const std::string& address) {
  TelemetryReporterOptions options;
  options.address = address;
  options.node.set_id("sidecar-1");
  options.node.set_proxy_version("test");
  return options;
}

// Waits until `done(reporter.stats())` holds; false after kWait.
template <typename Pred>
bool WaitForStats(const TelemetryReporter& reporter, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(reporter.stats())) return true;
    std::this_thread::yield();
  }
  return done(reporter.stats());
}

TEST(TelemetryReporterTest, FirstReportIsEmptyAndNamesTheNode) {
  FakeTelemetryService service(milliseconds(100));
  Server server(service);
  Workers workers(1);
  TelemetryReporter reporter(Options(server.address()), workers.sources());
  reporter.Start();
  const auto reports = service.WaitForReports(2);
  ASSERT_GE(reports.size(), 2u);
  const tv1::TelemetryReport& first = reports[0].report;
  EXPECT_EQ(first.node().id(), "sidecar-1");
  EXPECT_EQ(first.node().proxy_version(), "test");
  EXPECT_EQ(first.sequence(), 1u);
  EXPECT_EQ(first.targets_size(), 0);
  EXPECT_EQ(Nanos(first.interval_start()), Nanos(first.interval_end()));
  const tv1::TelemetryReport& second = reports[1].report;
  EXPECT_EQ(second.sequence(), 2u);
  EXPECT_FALSE(second.has_node());
  // Intervals follow each other without gap or overlap.
  EXPECT_EQ(Nanos(second.interval_start()), Nanos(first.interval_end()));
}

TEST(TelemetryReporterTest, HonoursTheIntervalOfTheAck) {
  FakeTelemetryService service(milliseconds(100));
  Server server(service);
  Workers workers(1);
  TelemetryReporter reporter(Options(server.address()), workers.sources());
  EXPECT_EQ(reporter.stats().report_interval, kDefaultReportInterval);
  reporter.Start();
  // Six reports well before a single 5 s default interval could have passed.
  const auto start = std::chrono::steady_clock::now();
  const auto reports = service.WaitForReports(6);
  ASSERT_GE(reports.size(), 6u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(reporter.stats().report_interval, milliseconds(100));
  for (size_t i = 1; i < 6; ++i) {
    const int64_t covered = Nanos(reports[i].report.interval_end()) - Nanos(reports[i].report.interval_start());
    EXPECT_GE(covered, 100'000'000) << "report " << i;
    EXPECT_LT(covered, 2'000'000'000) << "report " << i;
  }
}

TEST(TelemetryReporterTest, RecordedFiguresArriveExactlyOnce) {
  FakeTelemetryService service(milliseconds(50));
  Server server(service);
  Workers workers(2);
  TelemetryReporter reporter(Options(server.address()), workers.sources());
  reporter.Start();
  service.WaitForReports(1);

  AttemptOutcome priced = Success(120, 2500);
  priced.usage = {.prompt_tokens = 300, .completion_tokens = 20, .cached_tokens = 100};
  priced.time_to_first_token = std::chrono::milliseconds(30);
  workers.Record(0, "openai", "gpt", priced);
  workers.Record(1, "openai", "gpt", Success(80, 1500));
  AttemptOutcome retried = Failure(FailureKind::kRateLimited);
  retried.retry = true;
  workers.Record(1, "openai", "gpt", retried);
  workers.Record(0, "anthropic", "haiku", Failure(FailureKind::kTimeout));

  auto reports = service.WaitFor([](const auto& r) {
    return Sum(r, "openai", "gpt").attempts >= 3 && Sum(r, "anthropic", "haiku").attempts >= 1;
  });
  // Two more reports: nothing is counted twice.
  const size_t seen = reports.size();
  reports = service.WaitForReports(seen + 2);
  const Totals gpt = Sum(reports, "openai", "gpt");
  EXPECT_EQ(gpt.attempts, 3u);
  EXPECT_EQ(gpt.successes, 2u);
  EXPECT_EQ(gpt.rate_limited, 1u);
  EXPECT_EQ(gpt.retries, 1u);
  EXPECT_EQ(gpt.input_tokens, 300u);
  EXPECT_EQ(gpt.cached_input_tokens, 100u);
  EXPECT_EQ(gpt.cost_nano_usd, 4000u);
  EXPECT_EQ(gpt.latency_count, 2u);
  EXPECT_EQ(gpt.latency_sum_us, 200000.0);
  EXPECT_EQ(gpt.ttft_count, 1u);
  const Totals haiku = Sum(reports, "anthropic", "haiku");
  EXPECT_EQ(haiku.attempts, 1u);
  EXPECT_EQ(haiku.timeouts, 1u);
  EXPECT_EQ(haiku.successes, 0u);
  // Sequences count up by one on the stream.
  for (size_t i = 0; i < reports.size(); ++i) EXPECT_EQ(reports[i].report.sequence(), i + 1);
}

TEST(TelemetryReporterTest, DeltasOfAnUnackedReportAreNotResent) {
  FakeTelemetryService service(milliseconds(50));
  Server server(service);
  Workers workers(1);
  TelemetryReporter reporter(Options(server.address()), workers.sources());
  service.DropNextNonEmptyReport();
  reporter.Start();
  service.WaitForReports(1);
  workers.Record(0, "a", "m", Success(10), 3);

  // The report with the three attempts reaches the service, which ends the stream unacked; the
  // reporter reconnects (after its 0.5-1 s back-off) and reports on a second stream.
  auto reports = service.WaitFor([](const auto& r) { return !r.empty() && r.back().stream >= 1 && r.back().report.sequence() >= 3; });
  EXPECT_EQ(Sum(reports, "a", "m").attempts, 3u);
  EXPECT_TRUE(WaitForStats(reporter, [](const TelemetryReporter::Stats& s) { return s.streams_failed >= 1; }));
  EXPECT_GE(reporter.stats().deltas_dropped, 1u);
  // The second stream starts with an empty report naming the node again.
  for (const auto& received : reports) {
    if (received.stream == 1 && received.report.sequence() == 1) {
      EXPECT_EQ(received.report.node().id(), "sidecar-1");
      EXPECT_EQ(received.report.targets_size(), 0);
    }
  }

  workers.Record(0, "a", "m", Success(10));
  workers.Record(0, "a", "m", Success(10));
  reports = service.WaitFor([](const auto& r) { return Sum(r, "a", "m").attempts >= 5; });
  const size_t seen = reports.size();
  reports = service.WaitForReports(seen + 2);
  EXPECT_EQ(Sum(reports, "a", "m").attempts, 5u);
}

TEST(TelemetryReporterTest, StopSendsWhatWasRecordedSinceTheLastReport) {
  // An interval far longer than the test: only Stop can send the deltas.
  FakeTelemetryService service(milliseconds(600000));
  Server server(service);
  Workers workers(2);
  TelemetryReporter reporter(Options(server.address()), workers.sources());
  reporter.Start();
  ASSERT_TRUE(WaitForStats(reporter, [](const TelemetryReporter::Stats& s) { return s.reports_acked >= 1; }));
  workers.Record(0, "a", "m", Success(10));
  workers.Record(1, "a", "m", Success(20));
  workers.Record(1, "b", "n", Failure(FailureKind::kConnect));
  reporter.Stop();

  const auto reports = service.reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].report.sequence(), 2u);
  EXPECT_EQ(Sum(reports, "a", "m").attempts, 2u);
  EXPECT_EQ(Sum(reports, "b", "n").attempts, 1u);
  const TelemetryReporter::Stats stats = reporter.stats();
  EXPECT_EQ(stats.reports_acked, 2u);
  EXPECT_EQ(stats.streams_failed, 0u);
}

TEST(TelemetryReporterTest, StopReturnsPromptlyWhileTheControlPlaneIsUnreachable) {
  // A port that was just free: nothing listens there.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);

  Workers workers(1);
  TelemetryReporter reporter(Options("127.0.0.1:" + std::to_string(ntohs(addr.sin_port))), workers.sources());
  reporter.Start();
  ASSERT_TRUE(WaitForStats(reporter, [](const TelemetryReporter::Stats& s) { return s.streams_failed >= 1; }));
  const auto start = std::chrono::steady_clock::now();
  reporter.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(reporter.stats().reports_acked, 0u);
}

TEST(TelemetryReporterTest, ControlPlaneAggregatesTheReportedFiguresExactly) {
  FakeClock clock;  // frozen: every report lands in the same slot of the window
  auto aggregator = control::TelemetryAggregator::Create({}, clock);
  ASSERT_TRUE(aggregator.ok()) << aggregator.status();
  control::TelemetryServer service(**aggregator, milliseconds(100));
  Server server(service);
  Workers workers(2);
  TelemetryReporter reporter(Options(server.address()), workers.sources());
  reporter.Start();
  // What workers record before the stream is up belongs to no interval and is dropped.
  ASSERT_TRUE(WaitForStats(reporter, [](const TelemetryReporter::Stats& s) { return s.reports_acked >= 1; }));

  workers.Record(0, "openai", "gpt", Success(100, 1000));
  workers.Record(0, "openai", "gpt", Success(300, 1000));
  workers.Record(1, "openai", "gpt", Success(200, 1000));
  workers.Record(1, "openai", "gpt", Failure(FailureKind::kRateLimited));
  workers.Record(1, "anthropic", "haiku", Failure(FailureKind::kTimeout));

  const control::TargetKey gpt{"openai", "gpt"};
  const control::TargetKey haiku{"anthropic", "haiku"};
  auto arrived = [&] {
    const control::WindowHealth health = (*aggregator)->Health();
    auto g = health.targets.find(gpt);
    auto h = health.targets.find(haiku);
    return g != health.targets.end() && g->second.attempts >= 4 && h != health.targets.end() &&
           h->second.attempts >= 1;
  };
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!arrived() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(arrived()) << "absorbed " << (*aggregator)->reports_absorbed() << " refused "
                         << (*aggregator)->reports_refused() << " acked " << reporter.stats().reports_acked
                         << " sent " << reporter.stats().reports_sent << " targets "
                         << (*aggregator)->Health().targets.size();
  reporter.Stop();
  service.Shutdown();

  const control::WindowHealth health = (*aggregator)->Health();
  EXPECT_EQ(health.reporting_sidecars, 1u);
  const control::TargetHealthFigures& g = health.targets.at(gpt);
  EXPECT_EQ(g.attempts, 4u);
  EXPECT_EQ(g.successes, 3u);
  EXPECT_EQ(g.rate_limited_share, 0.25);
  EXPECT_EQ(g.error_rate, 0.0);
  EXPECT_DOUBLE_EQ(g.cost_per_success_usd, 1e-6);
  // The median of 100, 200 and 300 ms, within the sketch's 1%.
  EXPECT_NEAR(absl::ToDoubleMilliseconds(g.latency_p50), 200.0, 2.0);
  const control::TargetHealthFigures& h = health.targets.at(haiku);
  EXPECT_EQ(h.attempts, 1u);
  EXPECT_EQ(h.successes, 0u);
  EXPECT_EQ(h.error_rate, 1.0);
  EXPECT_EQ((*aggregator)->reports_refused(), 0u);
  EXPECT_GE((*aggregator)->reports_absorbed(), 2u);
}

}  // namespace
}  // namespace llmesh::xds

// The telemetry service over real gRPC on loopback: sidecar streams send reports and get one
// ack each with the server-set interval; the window holds what every stream sent. An ack is
// written only after its report was ingested, so reading it is the synchronisation; every
// call has a deadline.
#include "controlplane/telemetry/telemetry_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controlplane/telemetry/telemetry_aggregator.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"

namespace llmesh::control {
namespace {

namespace telemetry = ::llmesh::telemetry::v1;

constexpr auto kCallTimeout = std::chrono::seconds(30);
const TargetKey kA{"alpha", "cheap-model"};

telemetry::TelemetryReport Report(const std::string& node_id, uint64_t sequence,
                                  uint64_t successes, uint64_t errors) {
  telemetry::TelemetryReport report;
  if (!node_id.empty()) report.mutable_node()->set_id(node_id);
  report.set_sequence(sequence);
  telemetry::TargetStats* t = report.add_targets();
  t->set_provider(kA.provider);
  t->set_model(kA.model);
  t->set_successes(successes);
  t->mutable_errors()->set_overloaded(errors);
  t->set_attempts(successes + errors);
  t->set_cost_nano_usd(successes * 1000);
  return report;
}

// One sidecar's end of a telemetry stream.
struct FakeReporter {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<telemetry::TelemetryReport, telemetry::TelemetryAck>>
      stream;

  explicit FakeReporter(telemetry::TelemetryService::Stub& stub) {
    context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    stream = stub.Report(&context);
  }

  // Sends `report` and returns its ack; fails the test if the stream ends first.
  telemetry::TelemetryAck Send(const telemetry::TelemetryReport& report) {
    EXPECT_TRUE(stream->Write(report));
    telemetry::TelemetryAck ack;
    EXPECT_TRUE(stream->Read(&ack));
    return ack;
  }

  grpc::Status Close() {
    stream->WritesDone();
    return stream->Finish();
  }
};

class TelemetryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto aggregator = TelemetryAggregator::Create({}, clock_);
    ASSERT_TRUE(aggregator.ok()) << aggregator.status();
    aggregator_ = *std::move(aggregator);
    service_ = std::make_unique<TelemetryServer>(*aggregator_, std::chrono::milliseconds(7500));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = telemetry::TelemetryService::NewStub(channel_);
  }

  void TearDown() override {
    service_->Shutdown();
    server_->Shutdown();
    server_->Wait();
  }

  FakeClock clock_;
  std::unique_ptr<TelemetryAggregator> aggregator_;
  std::unique_ptr<TelemetryServer> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<telemetry::TelemetryService::Stub> stub_;
};

TEST_F(TelemetryServerTest, AcksEveryReportOfThreeStreamsWithTheIntervalAndMergesThem) {
  std::vector<std::unique_ptr<FakeReporter>> sidecars;
  for (int i = 0; i < 3; ++i) sidecars.push_back(std::make_unique<FakeReporter>(*stub_));

  for (uint64_t sequence = 1; sequence <= 4; ++sequence) {
    for (int i = 0; i < 3; ++i) {
      // The node is required on the first report only.
      const std::string node = sequence == 1 ? "pod-" + std::to_string(i) : "";
      const telemetry::TelemetryAck ack =
          sidecars[i]->Send(Report(node, sequence, 10 * (i + 1), i));
      EXPECT_EQ(ack.sequence(), sequence);
      EXPECT_EQ(ack.report_interval().seconds(), 7);
      EXPECT_EQ(ack.report_interval().nanos(), 500'000'000);
    }
  }
  EXPECT_EQ(service_->open_streams(), 3u);

  const TargetStats a = aggregator_->Stats().at(kA);
  EXPECT_EQ(a.successes, 4u * (10 + 20 + 30));
  EXPECT_EQ(a.errors, 4u * (0 + 1 + 2));
  EXPECT_EQ(a.requests, 4u * 63);
  EXPECT_DOUBLE_EQ(a.cost_per_success_usd, 1e-6);
  EXPECT_EQ(aggregator_->Health().reporting_sidecars, 3u);
  EXPECT_EQ(aggregator_->reports_absorbed(), 12u);
  EXPECT_EQ(aggregator_->reports_refused(), 0u);

  for (auto& sidecar : sidecars) EXPECT_TRUE(sidecar->Close().ok());
}

TEST_F(TelemetryServerTest, EndsAStreamWhoseFirstReportHasNoNode) {
  FakeReporter sidecar(*stub_);
  ASSERT_TRUE(sidecar.stream->Write(Report("", 1, 5, 0)));
  telemetry::TelemetryAck ack;
  EXPECT_FALSE(sidecar.stream->Read(&ack));
  const grpc::Status status = sidecar.stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "node.id: required on the first report of a stream");
  EXPECT_TRUE(aggregator_->Stats().empty());
}

TEST_F(TelemetryServerTest, AcksButDoesNotCountRefusedOrReplayedReports) {
  FakeReporter sidecar(*stub_);
  EXPECT_EQ(sidecar.Send(Report("pod-1", 1, 5, 0)).sequence(), 1u);
  // The same sequence again is a replay.
  EXPECT_EQ(sidecar.Send(Report("pod-1", 1, 5, 0)).sequence(), 1u);
  // Malformed: attempts do not add up.
  telemetry::TelemetryReport bad = Report("", 2, 5, 0);
  bad.mutable_targets(0)->set_attempts(6);
  EXPECT_EQ(sidecar.Send(bad).sequence(), 2u);
  // The stream goes on.
  EXPECT_EQ(sidecar.Send(Report("", 3, 7, 0)).sequence(), 3u);

  EXPECT_EQ(aggregator_->Stats().at(kA).successes, 12u);
  EXPECT_EQ(aggregator_->reports_absorbed(), 2u);
  EXPECT_EQ(aggregator_->reports_refused(), 2u);
  EXPECT_TRUE(sidecar.Close().ok());
}

TEST_F(TelemetryServerTest, ShutdownEndsOpenStreamsWithUnavailable) {
  FakeReporter sidecar(*stub_);
  EXPECT_EQ(sidecar.Send(Report("pod-1", 1, 5, 0)).sequence(), 1u);
  service_->Shutdown();
  telemetry::TelemetryAck ack;
  EXPECT_FALSE(sidecar.stream->Read(&ack));
  EXPECT_EQ(sidecar.stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace llmesh::control

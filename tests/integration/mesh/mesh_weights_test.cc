// Cluster-wide weights end to end (issue 4 acceptance 5): two sidecars report telemetry to the
// control plane, which routes `chat` to the cheaper provider alpha; when alpha degrades (10 %
// of its answers are 503s, above the route's 5 % error SLO) every sidecar moves alpha to the
// probe floor within a few report intervals, the clients never seeing an error; once alpha
// recovers it takes the traffic back because it is cheaper. Intervals are shortened by flags
// so the test runs in seconds.
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "llmesh/discovery/v1/discovery.pb.h"
#include "tests/integration/mesh/mesh_fixture.h"

namespace llmesh::testing {
namespace {

namespace adminpb = llmesh::admin::v1;
namespace discoverypb = llmesh::discovery::v1;
using std::chrono::milliseconds;

constexpr milliseconds kConvergeTimeout{60000};
constexpr uint32_t kProbeFloorBp = 500;  // --probe-floor 0.05
constexpr char kWeightsType[] = "llmesh.discovery.v1.WeightAssignment";

class MeshWeightsTest : public MeshTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartControlPlane(
        {"--report-interval", "100ms", "--weight-interval", "100ms", "--window", "2s",
         "--min-samples", "10", "--probe-floor", "0.05"},
        /*beta_in_bootstrap=*/true, /*route_extra=*/"      - {provider: beta, model: fake-model}\n    strategy: weighted\n"));
    ASSERT_NE(StartSidecar(1).admin_port, 0);
    ASSERT_NE(StartSidecar(2).admin_port, 0);
    ASSERT_TRUE(WaitUntilApplied({"sidecar-1", "sidecar-2"}, RouteConfigurationVersion(),
                                 milliseconds(10000)));
  }

  // Sends `count` chat requests alternating between the sidecars; each must succeed (failover
  // hides alpha's errors). Returns how many failed; the first failures are kept for messages.
  int Drive(int count) {
    int failed = 0;
    for (int i = 0; i < count; ++i) {
      HttpResponse response = Chat(sidecars()[1 + i % 2]);
      if (response.status == 200) continue;
      ++failed;
      if (failures_.size() < 5) {
        failures_.push_back(absl::StrCat(response.status, " ", response.body, response.error));
      }
    }
    return failed;
  }

  std::vector<std::string> failures_;

  // The control plane's health of `chat`.
  adminpb::GetHealthResponse Health() {
    adminpb::GetHealthRequest request;
    request.set_route("chat");
    adminpb::GetHealthResponse health;
    grpc::Status status =
        control().admin().GetHealth(ControlPlaneProcess::Context().get(), request, &health);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return health;
  }

  // alpha's entry in it.
  adminpb::TargetHealth AlphaHealth() {
    const adminpb::GetHealthResponse health = Health();
    for (const adminpb::RouteHealth& route : health.routes()) {
      for (const adminpb::TargetHealth& target : route.targets()) {
        if (target.provider() == "alpha") return target;
      }
    }
    return {};
  }

  // True when both sidecars have applied the control plane's current weight assignment.
  bool SidecarsRunCurrentWeights() {
    adminpb::ListSidecarsResponse listed;
    if (!control().admin().ListSidecars(ControlPlaneProcess::Context().get(), {}, &listed).ok()) {
      return false;
    }
    std::string current;
    for (const adminpb::TypeVersion& type : listed.current_versions()) {
      if (type.type_url() == kWeightsType) current = type.version();
    }
    if (current.empty() || listed.sidecars_size() != 2) return false;
    for (const adminpb::Sidecar& sidecar : listed.sidecars()) {
      bool applied = false;
      for (const adminpb::SidecarTypeState& type : sidecar.types()) {
        if (type.type_url() == kWeightsType && type.applied_version() == current) applied = true;
      }
      if (!applied) return false;
    }
    return true;
  }

  // Drives traffic until `reached` holds for alpha's health and every sidecar runs the
  // assignment it came from (checked again after, so both describe the same assignment);
  // returns that health. The time it took is printed (a figure, never asserted).
  std::optional<adminpb::TargetHealth> DriveUntil(
      std::string_view phase, const std::function<bool(const adminpb::TargetHealth&)>& reached,
      int* client_failures) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + kConvergeTimeout;
    for (int round = 0; round < 10000 && std::chrono::steady_clock::now() < deadline; ++round) {
      *client_failures += Drive(40);
      if (!reached(AlphaHealth()) || !SidecarsRunCurrentWeights()) continue;
      adminpb::TargetHealth health = AlphaHealth();
      if (!reached(health)) continue;
      std::cout << phase << ": "
                << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count()
                << " ms, " << (round + 1) * 40 << " requests\n";
      return health;
    }
    return std::nullopt;
  }
};

TEST_F(MeshWeightsTest, DegradedCheapProviderDropsToTheProbeFloorEverywhereAndTakesTrafficBack) {
  int client_failures = 0;

  // Healthy: alpha is ten times cheaper, so it carries the route and beta only probes.
  ASSERT_TRUE(DriveUntil(
      "healthy, alpha carries the route",
      [](const adminpb::TargetHealth& alpha) {
        return alpha.weight_basis() == discoverypb::COST && alpha.weight() >= 9000;
      },
      &client_failures))
      << Health().DebugString();

  // alpha degrades: one answer in ten is a 503.
  alpha().Script(R"({"status":503,"fail_probability":0.1})");
  const std::optional<adminpb::TargetHealth> floor = DriveUntil(
      "degraded, alpha at the probe floor on every sidecar",
      [](const adminpb::TargetHealth& alpha) {
        return alpha.weight_basis() == discoverypb::PROBE_FLOOR && alpha.weight() == kProbeFloorBp;
      },
      &client_failures);
  ASSERT_TRUE(floor.has_value()) << Health().DebugString();
  const adminpb::TargetHealth& degraded = *floor;
  EXPECT_FALSE(degraded.slo_met());
  EXPECT_GT(degraded.error_rate(), 0.05);
  EXPECT_NE(degraded.weight_reason().find("error rate"), std::string::npos) << degraded.weight_reason();

  // What the sidecars do with it: alpha gets about 5 % of the calls instead of 95 % (bounded
  // loosely: with few samples in the short window alpha's error rate can look fine for an
  // interval and its weight rise briefly).
  const uint64_t alpha_before = alpha().Requests();
  const uint64_t beta_before = beta().Requests();
  client_failures += Drive(400);
  const uint64_t to_alpha = alpha().Requests() - alpha_before;
  const uint64_t to_beta = beta().Requests() - beta_before;
  EXPECT_LT(to_alpha, 200u) << "alpha " << to_alpha << ", beta " << to_beta;
  EXPECT_GT(to_beta, 200u);

  // alpha recovers: probed at the floor, it meets the SLO again and, cheaper, takes the
  // route back.
  alpha().Reset();
  ASSERT_TRUE(DriveUntil(
      "recovered, alpha takes the route back",
      [](const adminpb::TargetHealth& alpha) {
        return alpha.weight_basis() == discoverypb::COST && alpha.weight() >= 9000;
      },
      &client_failures))
      << Health().DebugString();
  const uint64_t alpha_recovered = alpha().Requests();
  client_failures += Drive(400);
  EXPECT_GE(alpha().Requests() - alpha_recovered, 340u);

  EXPECT_EQ(client_failures, 0) << absl::StrJoin(failures_, "\n");
}

}  // namespace
}  // namespace llmesh::testing

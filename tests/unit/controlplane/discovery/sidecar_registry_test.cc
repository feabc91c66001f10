// The sidecar list behind AdminService.ListSidecars: per-type and overall SYNCED / STALE /
// NACKED against the current versions, replacement by a newer stream, and retention after
// disconnect. Time comes from a FakeClock.
#include "controlplane/discovery/sidecar_registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/clock.h"
#include "controlplane/discovery/resource_source.h"

namespace llmesh::control {
namespace {

namespace admin = ::llmesh::admin::v1;
namespace discovery = ::llmesh::discovery::v1;

discovery::Node NodeNamed(const std::string& id) {
  discovery::Node node;
  node.set_id(id);
  node.set_cluster("checkout");
  return node;
}

discovery::RouteConfiguration RoutesNamed(const std::string& provider) {
  discovery::RouteConfiguration config;
  config.add_providers()->set_name(provider);
  return config;
}

StreamEvent Event(StreamEvent::Kind kind, const std::string& version,
                  ResourceType type = ResourceType::kRouteConfiguration) {
  StreamEvent event;
  event.kind = kind;
  event.type = type;
  event.version = version;
  return event;
}

StreamEvent NackEvent(const std::string& last_good, const std::string& refused) {
  StreamEvent event = Event(StreamEvent::Kind::kNack, last_good);
  event.nacked_version = refused;
  event.error.set_code(3);
  event.error.set_message("1 error in route configuration");
  event.error.add_field_violations("routes[0].targets[0].provider: unknown provider \"opnai\"");
  return event;
}

admin::ListSidecarsResponse ListAll(SidecarRegistry& registry, const ResourceSource& source) {
  return registry.List(admin::ListSidecarsRequest(), source);
}

class SidecarRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  SidecarRegistry registry_{clock_};
  InMemoryResourceSource source_;
};

TEST_F(SidecarRegistryTest, SidecarThatAckedTheCurrentVersionIsSynced) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "127.0.0.1:5000");
  registry_.Record(handle, Event(StreamEvent::Kind::kSubscribe, ""));
  registry_.Record(handle, Event(StreamEvent::Kind::kAck, v1));

  const admin::ListSidecarsResponse list = ListAll(registry_, source_);
  ASSERT_EQ(list.sidecars_size(), 1);
  const admin::Sidecar& sidecar = list.sidecars(0);
  EXPECT_EQ(sidecar.node().id(), "a");
  EXPECT_EQ(sidecar.node().cluster(), "checkout");
  EXPECT_EQ(sidecar.peer(), "127.0.0.1:5000");
  EXPECT_TRUE(sidecar.connected());
  EXPECT_EQ(sidecar.status(), admin::SYNCED);
  ASSERT_EQ(sidecar.types_size(), 1);
  EXPECT_EQ(sidecar.types(0).type_url(), "llmesh.discovery.v1.RouteConfiguration");
  EXPECT_EQ(sidecar.types(0).applied_version(), v1);
  EXPECT_EQ(sidecar.types(0).status(), admin::SYNCED);
  ASSERT_EQ(list.current_versions_size(), 1);
  EXPECT_EQ(list.current_versions(0).version(), v1);
}

TEST_F(SidecarRegistryTest, NewerVersionNotYetAckedIsStaleUntilAcked) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "p");
  registry_.Record(handle, Event(StreamEvent::Kind::kSubscribe, v1));
  EXPECT_EQ(ListAll(registry_, source_).sidecars(0).status(), admin::SYNCED);

  const std::string v2 = source_.SetRouteConfiguration(RoutesNamed("anthropic"));
  clock_.Advance(std::chrono::seconds(30));
  admin::ListSidecarsResponse list = ListAll(registry_, source_);
  EXPECT_EQ(list.sidecars(0).status(), admin::STALE);
  EXPECT_EQ(list.sidecars(0).types(0).status(), admin::STALE);
  EXPECT_EQ(list.sidecars(0).types(0).applied_version(), v1);

  registry_.Record(handle, Event(StreamEvent::Kind::kAck, v2));
  list = ListAll(registry_, source_);
  EXPECT_EQ(list.sidecars(0).status(), admin::SYNCED);
  EXPECT_EQ(list.sidecars(0).types(0).applied_version(), v2);
}

TEST_F(SidecarRegistryTest, NackOfTheCurrentVersionShowsTheReasonAndTheLastGoodVersion) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "p");
  registry_.Record(handle, Event(StreamEvent::Kind::kSubscribe, v1));
  const std::string v2 = source_.SetRouteConfiguration(RoutesNamed("opnai"));
  registry_.Record(handle, NackEvent(v1, v2));

  admin::ListSidecarsResponse list = ListAll(registry_, source_);
  const admin::SidecarTypeState& type = list.sidecars(0).types(0);
  EXPECT_EQ(list.sidecars(0).status(), admin::NACKED);
  EXPECT_EQ(type.status(), admin::NACKED);
  EXPECT_EQ(type.applied_version(), v1);
  EXPECT_EQ(type.nacked_version(), v2);
  EXPECT_EQ(type.last_error().code(), 3);
  EXPECT_EQ(type.last_error().field_violations(0),
            "routes[0].targets[0].provider: unknown provider \"opnai\"");
  EXPECT_TRUE(type.has_last_response_time());

  // A later change is in flight: STALE, and the refusal is still shown until an ACK.
  const std::string v3 = source_.SetRouteConfiguration(RoutesNamed("openai-fixed"));
  list = ListAll(registry_, source_);
  EXPECT_EQ(list.sidecars(0).status(), admin::STALE);
  EXPECT_EQ(list.sidecars(0).types(0).nacked_version(), v2);
  registry_.Record(handle, Event(StreamEvent::Kind::kAck, v3));
  list = ListAll(registry_, source_);
  EXPECT_EQ(list.sidecars(0).status(), admin::SYNCED);
  EXPECT_EQ(list.sidecars(0).types(0).nacked_version(), "");
  EXPECT_FALSE(list.sidecars(0).types(0).has_last_error());
}

TEST_F(SidecarRegistryTest, NackedTypeMakesTheSidecarNackedWhileTheOtherTypeIsSynced) {
  const std::string routes = source_.SetRouteConfiguration(RoutesNamed("openai"));
  discovery::WeightAssignment weights;
  weights.mutable_ttl()->set_seconds(60);
  const std::string weights_version = source_.SetWeights(weights);
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "p");
  registry_.Record(handle,
                   Event(StreamEvent::Kind::kSubscribe, "", ResourceType::kWeightAssignment));
  registry_.Record(
      handle, Event(StreamEvent::Kind::kAck, weights_version, ResourceType::kWeightAssignment));
  registry_.Record(handle, Event(StreamEvent::Kind::kSubscribe, ""));
  registry_.Record(handle, NackEvent("", routes));

  const admin::ListSidecarsResponse list = ListAll(registry_, source_);
  const admin::Sidecar& sidecar = list.sidecars(0);
  EXPECT_EQ(sidecar.status(), admin::NACKED);
  ASSERT_EQ(sidecar.types_size(), 2);
  EXPECT_EQ(sidecar.types(0).status(), admin::NACKED);
  EXPECT_EQ(sidecar.types(1).type_url(), "llmesh.discovery.v1.WeightAssignment");
  EXPECT_EQ(sidecar.types(1).status(), admin::SYNCED);
}

TEST_F(SidecarRegistryTest, TypeWithoutCurrentContentCountsAsSynced) {
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "p");
  registry_.Record(handle,
                   Event(StreamEvent::Kind::kSubscribe, "", ResourceType::kWeightAssignment));
  const admin::ListSidecarsResponse list = ListAll(registry_, source_);
  EXPECT_EQ(list.sidecars(0).status(), admin::SYNCED);
  EXPECT_EQ(list.current_versions_size(), 0);
}

TEST_F(SidecarRegistryTest, DisconnectedSidecarIsStaleAndListedForAnHour) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "p");
  registry_.Record(handle, Event(StreamEvent::Kind::kSubscribe, v1));
  registry_.Disconnect(handle);

  admin::ListSidecarsResponse list = ListAll(registry_, source_);
  ASSERT_EQ(list.sidecars_size(), 1);
  EXPECT_FALSE(list.sidecars(0).connected());
  EXPECT_EQ(list.sidecars(0).status(), admin::STALE);
  EXPECT_EQ(list.sidecars(0).types(0).status(), admin::SYNCED);

  clock_.Advance(std::chrono::minutes(59));
  EXPECT_EQ(ListAll(registry_, source_).sidecars_size(), 1);
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_EQ(ListAll(registry_, source_).sidecars_size(), 0);
}

TEST_F(SidecarRegistryTest, SecondStreamOfTheSameNodeReplacesTheFirst) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  const SidecarHandle old_stream = registry_.Connect(NodeNamed("a"), "127.0.0.1:1");
  registry_.Record(old_stream, Event(StreamEvent::Kind::kSubscribe, ""));
  const SidecarHandle new_stream = registry_.Connect(NodeNamed("a"), "127.0.0.1:2");
  registry_.Record(new_stream, Event(StreamEvent::Kind::kSubscribe, v1));
  registry_.Record(old_stream, NackEvent("", v1));
  registry_.Disconnect(old_stream);

  const admin::ListSidecarsResponse list = ListAll(registry_, source_);
  ASSERT_EQ(list.sidecars_size(), 1);
  EXPECT_EQ(list.sidecars(0).peer(), "127.0.0.1:2");
  EXPECT_TRUE(list.sidecars(0).connected());
  EXPECT_EQ(list.sidecars(0).status(), admin::SYNCED);
}

TEST_F(SidecarRegistryTest, ListsSortedByNodeIdAndFiltersByStatus) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  for (const char* id : {"c", "a", "b"}) {
    const SidecarHandle handle = registry_.Connect(NodeNamed(id), "p");
    registry_.Record(handle,
                     Event(StreamEvent::Kind::kSubscribe, std::string(id) == "b" ? "" : v1));
  }
  const admin::ListSidecarsResponse all = ListAll(registry_, source_);
  ASSERT_EQ(all.sidecars_size(), 3);
  EXPECT_EQ(all.sidecars(0).node().id(), "a");
  EXPECT_EQ(all.sidecars(1).node().id(), "b");
  EXPECT_EQ(all.sidecars(2).node().id(), "c");

  admin::ListSidecarsRequest stale;
  stale.set_status(admin::STALE);
  const admin::ListSidecarsResponse only_stale = registry_.List(stale, source_);
  ASSERT_EQ(only_stale.sidecars_size(), 1);
  EXPECT_EQ(only_stale.sidecars(0).node().id(), "b");
}

TEST_F(SidecarRegistryTest, GenerationGrowsWithEveryRecordAndAwaitChangeSeesIt) {
  const std::uint64_t before = registry_.generation();
  EXPECT_FALSE(registry_.AwaitChange(before, absl::Now()));
  const SidecarHandle handle = registry_.Connect(NodeNamed("a"), "p");
  registry_.Record(handle, Event(StreamEvent::Kind::kSubscribe, ""));
  EXPECT_EQ(registry_.generation(), before + 2);
  EXPECT_TRUE(registry_.AwaitChange(before, absl::Now() + absl::Seconds(5)));
}

}  // namespace
}  // namespace llmesh::control

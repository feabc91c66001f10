// The per-stream discovery protocol without a transport: node on the first message, pushes
// with a fresh nonce per published version, ACK, NACK keeping the last good version, stale nonces ignored, and types
// that do not hold each other back.
#include "controlplane/discovery/discovery_stream.h"

#include <gtest/gtest.h>

#include <string>

#include "controlplane/discovery/resource_source.h"
#include "controlplane/store/version.h"

namespace llmesh::control {
namespace {

namespace discovery = ::llmesh::discovery::v1;

discovery::RouteConfiguration RoutesNamed(const std::string& provider) {
  discovery::RouteConfiguration config;
  config.add_providers()->set_name(provider);
  return config;
}

discovery::WeightAssignment WeightsWithTtl(int seconds) {
  discovery::WeightAssignment weights;
  weights.mutable_ttl()->set_seconds(seconds);
  return weights;
}

discovery::DiscoveryRequest Subscribe(std::string_view type_url, const std::string& version = "",
                                      const std::string& node_id = "sidecar-1") {
  discovery::DiscoveryRequest request;
  if (!node_id.empty()) request.mutable_node()->set_id(node_id);
  request.set_type_url(std::string(type_url));
  request.set_version_info(version);
  return request;
}

discovery::DiscoveryRequest Ack(const discovery::DiscoveryResponse& push) {
  discovery::DiscoveryRequest request;
  request.set_type_url(push.type_url());
  request.set_version_info(push.version_info());
  request.set_response_nonce(push.nonce());
  return request;
}

discovery::DiscoveryRequest Nack(const discovery::DiscoveryResponse& push,
                                 const std::string& last_good, const std::string& problem) {
  discovery::DiscoveryRequest request;
  request.set_type_url(push.type_url());
  request.set_version_info(last_good);
  request.set_response_nonce(push.nonce());
  request.mutable_error_detail()->set_code(3);
  request.mutable_error_detail()->set_message("1 error in route configuration");
  request.mutable_error_detail()->add_field_violations(problem);
  return request;
}

TEST(DiscoveryStreamTest, FirstMessageWithoutNodeIdEndsTheStreamWithInvalidArgument) {
  InMemoryResourceSource source;
  source.SetRouteConfiguration(RoutesNamed("openai"));
  DiscoveryStream stream;
  const absl::StatusOr<StreamStep> step =
      stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl, "", /*node_id=*/""), source);
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(stream.node().has_value());
}

TEST(DiscoveryStreamTest, UnknownTypeUrlEndsTheStreamWithInvalidArgument) {
  InMemoryResourceSource source;
  DiscoveryStream stream;
  const absl::StatusOr<StreamStep> step =
      stream.OnRequest(Subscribe("llmesh.discovery.v1.Secrets"), source);
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DiscoveryStreamTest, SubscriptionIsAnsweredWithTheCurrentStateAndAFreshNonce) {
  InMemoryResourceSource source;
  const std::string version = source.SetRouteConfiguration(RoutesNamed("openai"));
  DiscoveryStream stream;
  absl::StatusOr<StreamStep> step = stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->event.kind, StreamEvent::Kind::kSubscribe);
  ASSERT_EQ(step->pushes.size(), 1u);
  const discovery::DiscoveryResponse& push = step->pushes[0]->response;
  EXPECT_EQ(push.type_url(), "llmesh.discovery.v1.RouteConfiguration");
  EXPECT_EQ(push.version_info(), version);
  EXPECT_EQ(push.version_info(), RouteConfigurationVersion(RoutesNamed("openai")));
  EXPECT_FALSE(push.nonce().empty());
  ASSERT_EQ(push.resources_size(), 1);
  EXPECT_EQ(push.resources(0).route_configuration().providers(0).name(), "openai");
  EXPECT_EQ(stream.node()->id(), "sidecar-1");
}

TEST(DiscoveryStreamTest, SidecarAlreadyRunningTheCurrentVersionIsSentNothing) {
  InMemoryResourceSource source;
  const std::string version = source.SetRouteConfiguration(RoutesNamed("openai"));
  DiscoveryStream stream;
  absl::StatusOr<StreamStep> step =
      stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl, version), source);
  ASSERT_TRUE(step.ok());
  EXPECT_TRUE(step->pushes.empty());
  EXPECT_EQ(stream.state(ResourceType::kRouteConfiguration).acked_version, version);
}

TEST(DiscoveryStreamTest, TypeWithoutContentIsPushedOnceItHasSome) {
  InMemoryResourceSource source;
  DiscoveryStream stream;
  ASSERT_TRUE(stream.OnRequest(Subscribe(kWeightAssignmentTypeUrl), source)->pushes.empty());
  const std::string version = source.SetWeights(WeightsWithTtl(60));
  const auto pushes = stream.OnResourcesChanged(source);
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0]->response.type_url(), "llmesh.discovery.v1.WeightAssignment");
  EXPECT_EQ(pushes[0]->response.version_info(), version);
  EXPECT_EQ(pushes[0]->response.resources(0).weight_assignment().ttl().seconds(), 60);
}

TEST(DiscoveryStreamTest, AckRecordsTheAppliedVersion) {
  InMemoryResourceSource source;
  source.SetRouteConfiguration(RoutesNamed("openai"));
  DiscoveryStream stream;
  const auto push = stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source)->pushes.at(0)->response;
  absl::StatusOr<StreamStep> step = stream.OnRequest(Ack(push), source);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->event.kind, StreamEvent::Kind::kAck);
  EXPECT_EQ(step->event.version, push.version_info());
  EXPECT_TRUE(step->pushes.empty());
  EXPECT_EQ(stream.state(ResourceType::kRouteConfiguration).acked_version, push.version_info());
}

TEST(DiscoveryStreamTest, NackKeepsTheLastGoodVersionRecordsTheErrorAndIsNotResent) {
  InMemoryResourceSource source;
  source.SetRouteConfiguration(RoutesNamed("openai"));
  DiscoveryStream stream;
  const auto first = stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source)->pushes.at(0)->response;
  ASSERT_TRUE(stream.OnRequest(Ack(first), source).ok());

  const std::string bad = source.SetRouteConfiguration(RoutesNamed("opnai"));
  const auto pushes = stream.OnResourcesChanged(source);
  ASSERT_EQ(pushes.size(), 1u);
  absl::StatusOr<StreamStep> step = stream.OnRequest(
      Nack(pushes[0]->response, first.version_info(), "routes[0].targets[0].provider: unknown"), source);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->event.kind, StreamEvent::Kind::kNack);
  EXPECT_EQ(step->event.version, first.version_info());
  EXPECT_EQ(step->event.nacked_version, bad);
  EXPECT_EQ(step->event.error.field_violations(0), "routes[0].targets[0].provider: unknown");
  const TypeStreamState& state = stream.state(ResourceType::kRouteConfiguration);
  EXPECT_EQ(state.acked_version, first.version_info());
  EXPECT_EQ(state.nacked_version, bad);
  ASSERT_TRUE(state.last_error.has_value());
  EXPECT_EQ(state.last_error->code(), 3);
  EXPECT_TRUE(step->pushes.empty());
  EXPECT_TRUE(stream.OnResourcesChanged(source).empty());

  // The next change is pushed, and its ACK clears the refusal.
  source.SetRouteConfiguration(RoutesNamed("openai-2"));
  const auto next = stream.OnResourcesChanged(source);
  ASSERT_EQ(next.size(), 1u);
  ASSERT_TRUE(stream.OnRequest(Ack(next[0]->response), source).ok());
  EXPECT_EQ(state.acked_version, next[0]->response.version_info());
  EXPECT_EQ(state.nacked_version, "");
  EXPECT_FALSE(state.last_error.has_value());
}

TEST(DiscoveryStreamTest, AnswerToAnOvertakenPushIsStaleAndIgnored) {
  InMemoryResourceSource source;
  source.SetRouteConfiguration(RoutesNamed("a"));
  DiscoveryStream stream;
  const auto first = stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source)->pushes.at(0)->response;
  source.SetRouteConfiguration(RoutesNamed("b"));
  const auto second = stream.OnResourcesChanged(source).at(0)->response;
  EXPECT_NE(first.nonce(), second.nonce());

  absl::StatusOr<StreamStep> step = stream.OnRequest(Nack(first, "", "x: y"), source);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->event.kind, StreamEvent::Kind::kStale);
  EXPECT_TRUE(step->pushes.empty());
  const TypeStreamState& state = stream.state(ResourceType::kRouteConfiguration);
  EXPECT_EQ(state.acked_version, "");
  EXPECT_EQ(state.nacked_version, "");
  EXPECT_FALSE(state.last_error.has_value());

  ASSERT_EQ(stream.OnRequest(Ack(second), source)->event.kind, StreamEvent::Kind::kAck);
  EXPECT_EQ(state.acked_version, second.version_info());
}

TEST(DiscoveryStreamTest, TypesHaveIndependentVersionsAndNonces) {
  InMemoryResourceSource source;
  source.SetRouteConfiguration(RoutesNamed("openai"));
  const std::string weights_v1 = source.SetWeights(WeightsWithTtl(60));
  DiscoveryStream stream;
  const auto routes = stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source)->pushes.at(0)->response;
  const auto weights = stream.OnRequest(Subscribe(kWeightAssignmentTypeUrl), source)->pushes.at(0)->response;
  EXPECT_NE(routes.nonce(), weights.nonce());

  // A refused route configuration does not hold back weights.
  ASSERT_EQ(stream.OnRequest(Nack(routes, "", "routes: bad"), source)->event.kind,
            StreamEvent::Kind::kNack);
  ASSERT_EQ(stream.OnRequest(Ack(weights), source)->event.kind, StreamEvent::Kind::kAck);
  const std::string weights_v2 = source.SetWeights(WeightsWithTtl(30));
  const auto pushes = stream.OnResourcesChanged(source);
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0]->response.type_url(), "llmesh.discovery.v1.WeightAssignment");
  EXPECT_EQ(pushes[0]->response.version_info(), weights_v2);

  // A weights nonce does not answer a route push.
  discovery::DiscoveryRequest cross = Ack(pushes[0]->response);
  cross.set_type_url(std::string(kRouteConfigurationTypeUrl));
  EXPECT_EQ(stream.OnRequest(cross, source)->event.kind, StreamEvent::Kind::kStale);
  EXPECT_EQ(stream.state(ResourceType::kRouteConfiguration).nacked_version, routes.version_info());
  EXPECT_EQ(stream.state(ResourceType::kWeightAssignment).acked_version, weights_v1);
}

TEST(DiscoveryStreamTest, UnsubscribedTypeIsNeverPushed) {
  InMemoryResourceSource source;
  DiscoveryStream stream;
  ASSERT_TRUE(stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source).ok());
  source.SetWeights(WeightsWithTtl(60));
  EXPECT_TRUE(stream.OnResourcesChanged(source).empty());
}

TEST(DiscoveryStreamTest, LaterMessagesNeedNoNode) {
  InMemoryResourceSource source;
  DiscoveryStream stream;
  ASSERT_TRUE(stream.OnRequest(Subscribe(kRouteConfigurationTypeUrl), source).ok());
  EXPECT_TRUE(
      stream.OnRequest(Subscribe(kWeightAssignmentTypeUrl, "", /*node_id=*/""), source).ok());
  EXPECT_EQ(stream.node()->id(), "sidecar-1");
}

TEST(InMemoryResourceSourceTest, NotifiesOnlyWhenTheVersionChanges) {
  InMemoryResourceSource source;
  int calls = 0;
  const auto id = source.Subscribe([&calls] { ++calls; });
  const std::string v1 = source.SetRouteConfiguration(RoutesNamed("a"));
  EXPECT_EQ(source.SetRouteConfiguration(RoutesNamed("a")), v1);
  EXPECT_EQ(calls, 1);
  source.SetWeights(WeightsWithTtl(60));
  EXPECT_EQ(calls, 2);
  source.Unsubscribe(id);
  source.SetRouteConfiguration(RoutesNamed("b"));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(v1.size(), 32u);
  EXPECT_EQ(source.Current(ResourceType::kWeightAssignment)->version,
            WeightAssignmentVersion(WeightsWithTtl(60)));
}

}  // namespace
}  // namespace llmesh::control

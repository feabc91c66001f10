#include "common/config/validate.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/config/loader.h"
#include "tests/unit/common/config/fake_env.h"
#include "tests/fakes/test_pki.h"
#include "tests/unit/common/config/temp_file.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Config;
using llmesh::config::v1::Provider;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr std::string_view kValid = R"(
listen: 127.0.0.1:4000
admin_listen: 127.0.0.1:9901
providers:
  - name: openai
    kind: openai
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
    models:
      - {name: gpt-4o-mini, input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.60}
      - {name: gpt-4o}
  - name: anthropic
    kind: anthropic
    base_url: https://api.anthropic.com
    api_key_env: ANTHROPIC_API_KEY
    models:
      - {name: claude-3-5-haiku-latest}
routes:
  - model: chat
    targets:
      - {provider: openai, model: gpt-4o-mini, weight: 1}
      - {provider: anthropic, model: claude-3-5-haiku-latest, priority: 1}
    timeouts: {first_byte: 2s, total: 60s}
  - model: "*"
    name: fallback
    targets:
      - {provider: openai, model: gpt-4o}
)";

EnvLookup KeysEnv() {
  return FakeEnv({{"OPENAI_API_KEY", "sk-test"}, {"ANTHROPIC_API_KEY", "sk-ant-test"}});
}

Config ParseOrDie(std::string_view yaml) {
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, FakeEnv({}));
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

Config ValidConfig() { return ParseOrDie(kValid); }

std::vector<std::string> Errors(const Config& config, const EnvLookup& env = KeysEnv()) {
  std::vector<std::string> out;
  for (const ConfigError& e : Validate(config, env)) out.push_back(e.ToString());
  return out;
}

google::protobuf::Duration Seconds(int64_t s) {
  google::protobuf::Duration d;
  d.set_seconds(s);
  return d;
}

TEST(ValidateTest, AcceptsAValidConfig) { EXPECT_THAT(Errors(ValidConfig()), IsEmpty()); }

TEST(ValidateTest, AcceptsAnEmptyConfig) { EXPECT_THAT(Errors(Config()), IsEmpty()); }

TEST(ValidateTest, ErrorCarriesPathAndMessage) {
  Config config = ValidConfig();
  config.mutable_routes(1)->mutable_targets(0)->set_provider("opnai");
  EXPECT_THAT(Validate(config, KeysEnv()),
              ElementsAre(ConfigError{"routes[1].targets[0].provider",
                                      "unknown provider \"opnai\""}));
}

TEST(ValidateTest, ChecksListenAddresses) {
  Config config = ValidConfig();
  config.set_listen("localhost");
  config.set_admin_listen("127.0.0.1:99999");
  EXPECT_THAT(Errors(config),
              ElementsAre("listen: invalid address \"localhost\": missing port (expected "
                          "host:port, e.g. 127.0.0.1:4000)",
                          "admin_listen: invalid address \"127.0.0.1:99999\": port must be a "
                          "number in 0..65535 (expected host:port, e.g. 127.0.0.1:4000)"));
}

TEST(ValidateTest, ListenersMustDiffer) {
  Config config = ValidConfig();
  config.set_admin_listen("127.0.0.1:4000");
  EXPECT_THAT(Errors(config),
              ElementsAre("admin_listen: \"127.0.0.1:4000\" is the same address as listen"));
  config.clear_listen();  // The default listen address is 127.0.0.1:4000.
  EXPECT_THAT(Errors(config),
              ElementsAre("admin_listen: \"127.0.0.1:4000\" is the same address as listen"));
}

TEST(ValidateTest, BothListenersMayUsePortZero) {
  Config config = ValidConfig();
  config.set_listen("127.0.0.1:0");
  config.set_admin_listen("127.0.0.1:0");
  EXPECT_THAT(Errors(config), IsEmpty());
}

TEST(ValidateTest, LimitsWorkers) {
  Config config = ValidConfig();
  config.set_workers(256);
  EXPECT_THAT(Errors(config), IsEmpty());
  config.set_workers(257);
  EXPECT_THAT(Errors(config), ElementsAre("workers: 257 is more than the maximum of 256"));
}

TEST(ValidateTest, LimitDurationsMustBePositive) {
  Config config = ValidConfig();
  *config.mutable_limits()->mutable_client_timeout() = Seconds(0);
  *config.mutable_limits()->mutable_drain_timeout() = Seconds(-5);
  EXPECT_THAT(Errors(config), ElementsAre("limits.client_timeout: must be positive, got 0",
                                          "limits.drain_timeout: must be positive, got -5s"));
}

TEST(ValidateTest, ProviderNamesAreRequiredWellFormedAndUnique) {
  Config config = ValidConfig();
  config.mutable_providers(1)->set_name("openai");
  Provider* unnamed = config.add_providers();
  *unnamed = config.providers(0);
  unnamed->clear_name();
  Provider* bad = config.add_providers();
  *bad = config.providers(0);
  bad->set_name("Open AI");
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[1].name: duplicate provider name \"openai\" (also "
                          "providers[0])",
                          "providers[2].name: required",
                          "providers[3].name: invalid name \"Open AI\" (use only a-z, 0-9, "
                          "\"_\" and \"-\")",
                          "routes[0].targets[1].provider: unknown provider \"anthropic\""));
}

TEST(ValidateTest, ProviderKindIsRequired) {
  Config config = ValidConfig();
  config.mutable_providers(0)->clear_kind();
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[0].kind: required (one of: openai, anthropic, gemini, "
                          "azure_openai, openai_compatible)"));
}

TEST(ValidateTest, BaseUrlMustBeAnAbsoluteHttpUrl) {
  Config config = ValidConfig();
  config.mutable_providers(0)->clear_base_url();
  config.mutable_providers(1)->set_base_url("api.anthropic.com");
  Provider* ftp = config.add_providers();
  *ftp = config.providers(1);
  ftp->set_name("ftp");
  ftp->set_base_url("ftp://files.example.com/v1");
  Provider* hostless = config.add_providers();
  *hostless = config.providers(1);
  hostless->set_name("hostless");
  hostless->set_base_url("http:///v1");
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[0].base_url: required",
                          "providers[1].base_url: invalid URL \"api.anthropic.com\" (expected "
                          "an absolute http or https URL)",
                          "providers[2].base_url: unsupported scheme \"ftp\" in "
                          "\"ftp://files.example.com/v1\" (use http or https)",
                          "providers[3].base_url: missing host in \"http:///v1\""));
}

TEST(ValidateTest, BaseUrlErrorsDoNotShowCredentials) {
  Config config = ValidConfig();
  config.mutable_providers(0)->set_base_url("ftp://user:hunter2@gw.example.com/v1?key=sk-1");
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[0].base_url: unsupported scheme \"ftp\" in "
                          "\"ftp://[redacted]@gw.example.com/v1?[redacted]\" (use http or "
                          "https)"));
}

TEST(ValidateTest, ApiKeyVariableMustBeSetAndNonEmpty) {
  const Config config = ValidConfig();
  EXPECT_THAT(Errors(config, FakeEnv({{"ANTHROPIC_API_KEY", ""}})),
              ElementsAre("providers[0].api_key_env: environment variable \"OPENAI_API_KEY\" is "
                          "not set",
                          "providers[1].api_key_env: environment variable "
                          "\"ANTHROPIC_API_KEY\" is empty"));
}

TEST(ValidateTest, ApiKeyFileAndCaFileMustBeReadable) {
  TempFile key("sk-from-file\n");
  Config config = ValidConfig();
  config.mutable_providers(0)->set_api_key_file(key.path());
  config.mutable_providers(0)->set_ca_file(key.path());
  EXPECT_THAT(Errors(config), IsEmpty());

  const std::string missing = key.path() + ".missing";
  config.mutable_providers(0)->set_api_key_file(missing);
  config.mutable_providers(0)->set_ca_file(::testing::TempDir());
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[0].api_key_file: cannot read \"" + missing +
                              "\": No such file or directory",
                          "providers[0].ca_file: cannot read \"" + ::testing::TempDir() +
                              "\": Is a directory"));
}

TEST(ValidateTest, PortableValidationLeavesKeysAndFilesToTheHostButNotTheirPresence) {
  Config config = ValidConfig();
  config.mutable_providers(0)->set_api_key_file("/nonexistent/key");
  config.mutable_providers(0)->set_ca_file("/nonexistent/ca.pem");
  config.mutable_providers(1)->set_api_key_env("UNSET_ON_THIS_HOST");
  std::vector<std::string> portable;
  for (const ConfigError& e : ValidatePortable(config)) portable.push_back(e.ToString());
  EXPECT_THAT(portable, IsEmpty());
  EXPECT_THAT(Errors(config), SizeIs(3));

  config.mutable_providers(0)->set_api_key_file("");
  config.mutable_providers(1)->set_api_key_env("");
  portable.clear();
  for (const ConfigError& e : ValidatePortable(config)) portable.push_back(e.ToString());
  EXPECT_THAT(portable, ElementsAre("providers[0].api_key_file: must not be empty",
                                    "providers[1].api_key_env: must not be empty"));
}

TEST(ValidateTest, ListenTlsNeedsAReadableCertificateAndItsKey) {
  llmesh::testing::TestPki pki;
  const llmesh::testing::CertifiedKey server = pki.Issue({"localhost"}, {"127.0.0.1"});
  const llmesh::testing::CertifiedKey other = pki.Issue({"other"}, {});
  TempFile cert(server.cert_pem);
  TempFile key(server.key_pem);
  TempFile other_key(other.key_pem);
  TempFile not_pem("not a certificate\n");
  Config config = ValidConfig();
  config.mutable_listen_tls()->set_cert_file(cert.path());
  config.mutable_listen_tls()->set_key_file(key.path());
  EXPECT_THAT(Errors(config), IsEmpty());

  config.mutable_listen_tls()->set_key_file(other_key.path());
  EXPECT_THAT(Errors(config), ElementsAre("listen_tls.key_file: \"" + other_key.path() +
                                          "\": not the key of listen_tls.cert_file \"" +
                                          cert.path() + "\""));

  config.mutable_listen_tls()->set_cert_file(not_pem.path());
  EXPECT_THAT(Errors(config), ElementsAre(::testing::StartsWith(
                                  "listen_tls.cert_file: \"" + not_pem.path() +
                                  "\": not a PEM certificate (")));

  const std::string missing = cert.path() + ".missing";
  config.mutable_listen_tls()->set_cert_file(missing);
  EXPECT_THAT(Errors(config), ElementsAre("listen_tls.cert_file: cannot read \"" + missing +
                                          "\": No such file or directory"));

  config.mutable_listen_tls()->clear_cert_file();
  config.mutable_listen_tls()->clear_key_file();
  EXPECT_THAT(Errors(config), ElementsAre("listen_tls.cert_file: required",
                                          "listen_tls.key_file: required"));
}

TEST(ValidateTest, PortableValidationOfListenTlsChecksOnlyThatBothFilesAreNamed) {
  Config config = ValidConfig();
  config.mutable_listen_tls()->set_cert_file("/nonexistent/cert.pem");
  config.mutable_listen_tls()->set_key_file("/nonexistent/key.pem");
  std::vector<std::string> portable;
  for (const ConfigError& e : ValidatePortable(config)) portable.push_back(e.ToString());
  EXPECT_THAT(portable, IsEmpty());
  EXPECT_THAT(Errors(config), SizeIs(2));
}

TEST(ValidateTest, RouteSloSharesAreFractionsAndBoundsPositive) {
  Config config = ParseOrDie(std::string(kValid) + R"(    slo: {max_error_rate: 0.02, max_p95_latency: 2s, max_p95_ttft: 500ms, max_rate_limited_share: 0}
)");
  EXPECT_THAT(Errors(config), IsEmpty());
  auto* slo = config.mutable_routes(1)->mutable_slo();
  slo->set_max_error_rate(1.5);
  slo->set_max_rate_limited_share(-0.1);
  slo->mutable_max_p95_latency()->set_seconds(-1);
  EXPECT_THAT(Errors(config), ElementsAre("routes[1].slo.max_error_rate: must be between 0 and 1, got 1.5",
                                          "routes[1].slo.max_rate_limited_share: must be between 0 and 1, got -0.1",
                                          "routes[1].slo.max_p95_latency: must be positive, got -1s"));
}

TEST(ValidateTest, ModelsNeedUniqueNamesAndNonNegativePrices) {
  Config config = ValidConfig();
  auto* models = config.mutable_providers(0)->mutable_models();
  models->Mutable(1)->set_name("gpt-4o-mini");
  models->Add()->set_input_usd_per_mtok(-1);
  models->Mutable(0)->set_output_usd_per_mtok(-0.5);
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[0].models[0].output_usd_per_mtok: must be a non-negative "
                          "number, got -0.5",
                          "providers[0].models[1].name: duplicate model \"gpt-4o-mini\" (also "
                          "models[0])",
                          "providers[0].models[2].name: required",
                          "providers[0].models[2].input_usd_per_mtok: must be a non-negative "
                          "number, got -1",
                          "routes[1].targets[0].model: unknown model \"gpt-4o\" for provider "
                          "\"openai\""));
}

TEST(ValidateTest, ChecksOutlierDetection) {
  Config config = ValidConfig();
  auto* od = config.mutable_providers(0)->mutable_outlier_detection();
  od->set_failure_percentage_threshold(150);
  *od->mutable_base_ejection_time() = Seconds(60);
  *od->mutable_max_ejection_time() = Seconds(30);
  *od->mutable_failure_percentage_window() = Seconds(0);
  EXPECT_THAT(Errors(config),
              ElementsAre("providers[0].outlier_detection.failure_percentage_threshold: must be "
                          "between 0 and 100, got 150",
                          "providers[0].outlier_detection.failure_percentage_window: must be "
                          "positive, got 0",
                          "providers[0].outlier_detection.max_ejection_time: 30s is shorter than "
                          "base_ejection_time 1m"));
  od->set_failure_percentage_threshold(100);
  *od->mutable_max_ejection_time() = Seconds(60);
  od->clear_failure_percentage_window();
  EXPECT_THAT(Errors(config), IsEmpty());
}

TEST(ValidateTest, RouteModelsAndNamesAreRequiredAndUnique) {
  Config config = ValidConfig();
  *config.add_routes() = config.routes(0);                    // routes[2]: model "chat" again
  *config.add_routes() = config.routes(0);                    // routes[3]: named "fallback"
  config.mutable_routes(3)->set_model("chat-2");
  config.mutable_routes(3)->set_name("fallback");
  *config.add_routes() = config.routes(0);                    // routes[4]: no model
  config.mutable_routes(4)->clear_model();
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[2].model: duplicate route for model \"chat\" (also routes[0])",
                          "routes[3].name: duplicate route name \"fallback\" (also routes[1])",
                          "routes[4].model: required"));
}

TEST(ValidateTest, RouteNameDefaultsToItsModelForUniqueness) {
  Config config = ValidConfig();
  config.mutable_routes(1)->set_name("chat");
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[1].name: duplicate route name \"chat\" (also routes[0])"));
}

TEST(ValidateTest, RouteNeedsATarget) {
  Config config = ValidConfig();
  config.mutable_routes(0)->clear_targets();
  EXPECT_THAT(Errors(config), ElementsAre("routes[0].targets: at least one target is required"));
}

TEST(ValidateTest, TargetsMustReferToKnownProvidersAndModels) {
  Config config = ValidConfig();
  auto* targets = config.mutable_routes(1)->mutable_targets();
  targets->Mutable(0)->set_model("gpt-5");
  targets->Add()->set_provider("opnai");
  targets->Mutable(1)->set_model("gpt-4o");
  targets->Add();
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[1].targets[0].model: unknown model \"gpt-5\" for provider "
                          "\"openai\"",
                          "routes[1].targets[1].provider: unknown provider \"opnai\"",
                          "routes[1].targets[2].provider: required",
                          "routes[1].targets[2].model: required"));
}

TEST(ValidateTest, TargetWeightIsAtLeastOne) {
  Config config = ValidConfig();
  config.mutable_routes(0)->mutable_targets(0)->set_weight(0);
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[0].targets[0].weight: must be at least 1, got 0"));
}

TEST(ValidateTest, RejectsDuplicateTargetsInARoute) {
  Config config = ValidConfig();
  *config.mutable_routes(0)->add_targets() = config.routes(0).targets(0);
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[0].targets[2]: duplicate of targets[0] (provider \"openai\", "
                          "model \"gpt-4o-mini\")"));
}

TEST(ValidateTest, TimeoutsArePositiveAndWithinTotal) {
  Config config = ValidConfig();
  auto* timeouts = config.mutable_routes(0)->mutable_timeouts();
  *timeouts->mutable_connect() = Seconds(0);
  *timeouts->mutable_first_byte() = Seconds(90);
  *timeouts->mutable_per_try() = Seconds(61);
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[0].timeouts.connect: must be positive, got 0",
                          "routes[0].timeouts.first_byte: 1m30s is longer than total 1m",
                          "routes[0].timeouts.per_try: 1m1s is longer than total 1m"));
}

TEST(ValidateTest, TimeoutsAreComparedOnlyWhenBothAreSet) {
  Config config = ValidConfig();
  auto* timeouts = config.mutable_routes(0)->mutable_timeouts();
  timeouts->clear_total();
  *timeouts->mutable_per_try() = Seconds(600);
  EXPECT_THAT(Errors(config), IsEmpty());
}

TEST(ValidateTest, RetryBudgetIsAPercentage) {
  Config config = ValidConfig();
  auto* retry = config.mutable_routes(0)->mutable_retry();
  retry->set_budget_percent(100);
  EXPECT_THAT(Errors(config), IsEmpty());
  retry->set_budget_percent(150);
  *retry->mutable_max_cooldown() = Seconds(-1);
  config.mutable_routes(1)->mutable_retry()->set_budget_percent(-5);
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[0].retry.budget_percent: must be greater than 0 and at most "
                          "100, got 150",
                          "routes[0].retry.max_cooldown: must be positive, got -1s",
                          "routes[1].retry.budget_percent: must be greater than 0 and at most "
                          "100, got -5"));
}

TEST(ValidateTest, HeaderMatchesNeedAName) {
  Config config = ValidConfig();
  config.mutable_routes(0)->add_match_headers()->set_value("x");
  config.mutable_routes(0)->add_match_headers()->set_name("x tenant");
  config.mutable_routes(0)->add_match_headers()->set_name("x-tenant");
  EXPECT_THAT(Errors(config),
              ElementsAre("routes[0].match_headers[0].name: required",
                          "routes[0].match_headers[1].name: invalid header name \"x tenant\""));
}

TEST(ValidateTest, HedgeDelayMustBePositive) {
  Config config = ValidConfig();
  *config.mutable_routes(0)->mutable_hedge_delay() = Seconds(0);
  EXPECT_THAT(Errors(config), ElementsAre("routes[0].hedge_delay: must be positive, got 0"));
}

TEST(ValidateTest, ControlPlaneNeedsAddressAndNodeId) {
  Config config = ValidConfig();
  config.mutable_control_plane()->set_state_dir("/var/lib/llmesh");
  EXPECT_THAT(Errors(config), ElementsAre("control_plane.address: required",
                                          "control_plane.node_id: required"));
  config.mutable_control_plane()->set_address("llmesh-control:0");
  config.mutable_control_plane()->set_node_id("pod-1");
  EXPECT_THAT(Errors(config), ElementsAre("control_plane.address: port 0 in "
                                          "\"llmesh-control:0\" is not a reachable port"));
  config.mutable_control_plane()->set_address("llmesh-control.llmesh.svc:15010");
  EXPECT_THAT(Errors(config), IsEmpty());
}

TEST(ValidateTest, ReportsEveryProblemTogether) {
  Config config = ValidConfig();
  config.set_workers(1000);
  config.mutable_providers(1)->set_base_url("not a url");
  config.mutable_routes(1)->mutable_targets(0)->set_provider("opnai");
  absl::Status status = ValidateToStatus(config, KeysEnv());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "workers: 1000 is more than the maximum of 256\n"
            "providers[1].base_url: invalid URL \"not a url\" (expected an absolute http or "
            "https URL)\n"
            "routes[1].targets[0].provider: unknown provider \"opnai\"");
}

TEST(ValidateTest, ValidateToStatusIsOkForAValidConfig) {
  EXPECT_TRUE(ValidateToStatus(ValidConfig(), KeysEnv()).ok());
}

TEST(ConfigErrorTest, RootErrorsHaveNoPathPrefix) {
  EXPECT_EQ((ConfigError{"", "the config must be a map"}).ToString(), "the config must be a map");
  EXPECT_EQ((ConfigError{"workers", "bad"}).ToString(), "workers: bad");
}

TEST(SummaryTest, CountsProvidersModelsRoutesAndTargets) {
  EXPECT_EQ(Summary(ValidConfig()), "config OK: 2 providers (3 models), 2 routes, 3 targets");
  EXPECT_EQ(Summary(ParseOrDie("providers: [{models: [{}]}]\nroutes: [{targets: [{}]}]\n")),
            "config OK: 1 provider (1 model), 1 route, 1 target");
  EXPECT_EQ(Summary(Config()), "config OK: 0 providers (0 models), 0 routes, 0 targets");
}

}  // namespace
}  // namespace llmesh::config

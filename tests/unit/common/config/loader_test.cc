#include "common/config/loader.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/config/validate.h"
#include "tests/unit/common/config/fake_env.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Config;
using llmesh::config::v1::Provider;
using llmesh::config::v1::Route;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

const std::string kTestdata = LLMESH_CONFIG_TESTDATA_DIR;

// The error message of parsing `yaml` with an empty environment; "" if it parsed.
std::string ParseError(std::string_view yaml, const EnvLookup& env = FakeEnv({})) {
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, env);
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

Config ParseOrDie(std::string_view yaml, const EnvLookup& env = FakeEnv({})) {
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, env);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

TEST(LoaderTest, LoadsTheDesignExample) {
  absl::StatusOr<Config> config =
      LoadConfigFile(kTestdata + "/example.yaml", FakeEnv({{"POD_NAME", "app-7f9c"}}));
  ASSERT_TRUE(config.ok()) << config.status();

  EXPECT_EQ(config->listen(), "127.0.0.1:4000");
  EXPECT_EQ(config->admin_listen(), "127.0.0.1:9901");
  EXPECT_EQ(config->workers(), 0u);
  ASSERT_EQ(config->providers_size(), 2);
  const Provider& openai = config->providers(0);
  EXPECT_EQ(openai.name(), "openai");
  EXPECT_EQ(openai.kind(), Provider::OPENAI);
  EXPECT_EQ(openai.base_url(), "https://api.openai.com/v1");
  EXPECT_EQ(openai.api_key_env(), "OPENAI_API_KEY");
  ASSERT_EQ(openai.models_size(), 1);
  EXPECT_EQ(openai.models(0).name(), "gpt-4o-mini");
  EXPECT_EQ(openai.models(0).context_window(), 128000u);
  EXPECT_DOUBLE_EQ(openai.models(0).input_usd_per_mtok(), 0.15);
  EXPECT_DOUBLE_EQ(openai.models(0).output_usd_per_mtok(), 0.60);
  EXPECT_EQ(config->providers(1).kind(), Provider::ANTHROPIC);
  EXPECT_DOUBLE_EQ(config->providers(1).models(0).output_usd_per_mtok(), 4.0);

  ASSERT_EQ(config->routes_size(), 1);
  const Route& route = config->routes(0);
  EXPECT_EQ(route.model(), "chat");
  EXPECT_EQ(route.strategy(), Route::FAILOVER);
  ASSERT_EQ(route.targets_size(), 2);
  EXPECT_EQ(route.targets(0).provider(), "openai");
  EXPECT_TRUE(route.targets(0).has_weight());
  EXPECT_EQ(route.targets(0).weight(), 1u);
  EXPECT_EQ(route.targets(1).model(), "claude-3-5-haiku-latest");
  EXPECT_EQ(route.targets(1).priority(), 1u);
  EXPECT_FALSE(route.targets(1).has_weight());
  EXPECT_EQ(route.timeouts().first_byte().seconds(), 2);
  EXPECT_EQ(route.timeouts().total().seconds(), 60);
  EXPECT_FALSE(route.timeouts().has_connect());

  EXPECT_EQ(config->control_plane().address(), "llmesh-control.llmesh.svc:15010");
  EXPECT_EQ(config->control_plane().node_id(), "app-7f9c");
  EXPECT_EQ(config->control_plane().state_dir(), "/var/lib/llmesh");

  EXPECT_THAT(Validate(*config, FakeEnv({{"OPENAI_API_KEY", "sk-1"}, {"ANTHROPIC_API_KEY", "sk-2"}})),
              IsEmpty());
  EXPECT_EQ(Summary(*config), "config OK: 2 providers (2 models), 1 route, 2 targets");
}

TEST(LoaderTest, EmptyDocumentIsAnEmptyConfig) {
  EXPECT_EQ(ParseOrDie("").ByteSizeLong(), 0u);
  EXPECT_EQ(ParseOrDie("# only a comment\n").ByteSizeLong(), 0u);
  EXPECT_EQ(ParseOrDie("---\n").ByteSizeLong(), 0u);
}

TEST(LoaderTest, NullValueLeavesTheFieldUnset) {
  const Config config = ParseOrDie("control_plane:\nlisten: ~\n");
  EXPECT_FALSE(config.has_control_plane());
  EXPECT_EQ(config.listen(), "");
}

TEST(LoaderTest, RejectsUnknownKeyWithItsPathAndTheKnownKeys) {
  EXPECT_EQ(ParseError(R"(
routes:
  - model: a
    targets: [{provider: p, model: m}]
  - model: b
    targets:
      - {provder: openai, model: gpt-4o-mini}
)"),
            "routes[1].targets[0].provder: unknown key (expected one of: provider, model, "
            "priority, weight)");
  EXPECT_EQ(ParseError("listen_address: x\n"),
            "listen_address: unknown key (expected one of: listen, admin_listen, workers, "
            "limits, providers, routes, control_plane, access_log, listen_tls)");
}

TEST(LoaderTest, RejectsKeysInCamelCase) {
  EXPECT_THAT(ParseError("adminListen: 127.0.0.1:1\n"), StartsWith("adminListen: unknown key"));
}

TEST(LoaderTest, RejectsADuplicateKey) {
  EXPECT_EQ(ParseError("workers: 1\nworkers: 2\n"), "workers: duplicate key");
}

TEST(LoaderTest, ChecksUnsignedIntegers) {
  EXPECT_EQ(ParseError("workers: abc\n"), "workers: expected an unsigned integer, got \"abc\"");
  EXPECT_EQ(ParseError("workers: -1\n"), "workers: expected an unsigned integer, got \"-1\"");
  EXPECT_EQ(ParseError("workers: 1.5\n"), "workers: expected an unsigned integer, got \"1.5\"");
  EXPECT_EQ(ParseError("workers: 4294967296\n"),
            "workers: value 4294967296 is out of range (0..4294967295)");
  EXPECT_EQ(ParseOrDie("workers: 4294967295\n").workers(), 4294967295u);
  EXPECT_EQ(ParseOrDie("workers: '8'\n").workers(), 8u);
}

TEST(LoaderTest, KeepsFull64BitValues) {
  const Config config = ParseOrDie("limits: {max_request_body_bytes: 18446744073709551615}\n");
  EXPECT_EQ(config.limits().max_request_body_bytes(), 18446744073709551615u);
  EXPECT_EQ(ParseError("limits: {max_request_body_bytes: 18446744073709551616}\n"),
            "limits.max_request_body_bytes: value 18446744073709551616 is out of range "
            "(0..18446744073709551615)");
}

TEST(LoaderTest, ChecksNumbers) {
  EXPECT_EQ(ParseError("providers: [{models: [{name: m, input_usd_per_mtok: cheap}]}]\n"),
            "providers[0].models[0].input_usd_per_mtok: expected a number, got \"cheap\"");
  EXPECT_EQ(ParseError("providers: [{models: [{input_usd_per_mtok: .inf}]}]\n"),
            "providers[0].models[0].input_usd_per_mtok: expected a number, got \".inf\"");
  const Config config = ParseOrDie("providers: [{models: [{input_usd_per_mtok: 3}]}]\n");
  EXPECT_DOUBLE_EQ(config.providers(0).models(0).input_usd_per_mtok(), 3.0);
}

TEST(LoaderTest, AcceptsEnumValuesInLowerCase) {
  const Config config = ParseOrDie(R"(
providers:
  - {kind: openai}
  - {kind: azure_openai}
  - {kind: OPENAI_COMPATIBLE}
routes:
  - {strategy: hedged}
)");
  EXPECT_EQ(config.providers(0).kind(), Provider::OPENAI);
  EXPECT_EQ(config.providers(1).kind(), Provider::AZURE_OPENAI);
  EXPECT_EQ(config.providers(2).kind(), Provider::OPENAI_COMPATIBLE);
  EXPECT_EQ(config.routes(0).strategy(), Route::HEDGED);
}

TEST(LoaderTest, RejectsUnknownEnumValuesListingTheChoices) {
  EXPECT_EQ(ParseError("providers: [{kind: opnai}]\n"),
            "providers[0].kind: unknown value \"opnai\" (expected one of: openai, anthropic, "
            "gemini, azure_openai, openai_compatible)");
  EXPECT_EQ(ParseError("providers: [{kind: kind_unspecified}]\n"),
            "providers[0].kind: unknown value \"kind_unspecified\" (expected one of: openai, "
            "anthropic, gemini, azure_openai, openai_compatible)");
  EXPECT_EQ(ParseError("routes: [{strategy: 1}]\n"),
            "routes[0].strategy: unknown value \"1\" (expected one of: failover, weighted, "
            "hedged)");
}

TEST(LoaderTest, ParsesDurations) {
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : {Case{"500ms", 0, 500'000'000}, Case{"2s", 2, 0}, Case{"1m", 60, 0},
                        Case{"1h", 3600, 0}, Case{"1m30s", 90, 0}, Case{"1.5s", 1, 500'000'000},
                        Case{"250us", 0, 250'000}, Case{"0", 0, 0}}) {
    SCOPED_TRACE(c.text);
    const Config config = ParseOrDie(absl::StrCat("limits: {client_timeout: ", c.text, "}\n"));
    EXPECT_TRUE(config.limits().has_client_timeout());
    EXPECT_EQ(config.limits().client_timeout().seconds(), c.seconds);
    EXPECT_EQ(config.limits().client_timeout().nanos(), c.nanos);
  }
}

TEST(LoaderTest, RejectsBadDurations) {
  EXPECT_EQ(ParseError("routes: [{timeouts: {first_byte: 2 seconds}}]\n"),
            "routes[0].timeouts.first_byte: invalid duration \"2 seconds\" (use e.g. 500ms, "
            "2s, 1m)");
  EXPECT_EQ(ParseError("routes: [{timeouts: {total: 10}}]\n"),
            "routes[0].timeouts.total: invalid duration \"10\" (use e.g. 500ms, 2s, 1m)");
  EXPECT_EQ(ParseError("routes: [{timeouts: {total: inf}}]\n"),
            "routes[0].timeouts.total: invalid duration \"inf\" (use e.g. 500ms, 2s, 1m)");
  EXPECT_EQ(ParseError("limits: {drain_timeout: -1s}\n"),
            "limits.drain_timeout: negative duration \"-1s\" is not allowed");
  EXPECT_EQ(ParseError("limits: {drain_timeout: {seconds: 1}}\n"),
            "limits.drain_timeout: expected a duration (e.g. 500ms, 2s, 1m), got a map");
}

TEST(LoaderTest, RepeatedFieldsNeedLists) {
  EXPECT_EQ(ParseError("providers: {name: openai}\n"), "providers: expected a list, got a map");
  EXPECT_EQ(ParseError("providers: openai\n"), "providers: expected a list, got \"openai\"");
}

TEST(LoaderTest, MessagesNeedMaps) {
  EXPECT_EQ(ParseError("limits: 5\n"), "limits: expected a map, got \"5\"");
  EXPECT_EQ(ParseError("providers: [openai]\n"), "providers[0]: expected a map, got \"openai\"");
  EXPECT_EQ(ParseError("providers: [~]\n"), "providers[0]: expected a map, got an empty value");
  EXPECT_EQ(ParseError("- listen\n"), "the config must be a map of keys, got a list");
}

TEST(LoaderTest, ScalarsRejectListsAndMaps) {
  EXPECT_EQ(ParseError("workers: [1]\n"), "workers: expected an unsigned integer, got a list");
  EXPECT_EQ(ParseError("listen: {host: x}\n"), "listen: expected a string, got a map");
}

TEST(LoaderTest, RejectsTwoMembersOfAOneof) {
  EXPECT_EQ(ParseError("providers: [{api_key_env: K, api_key_file: /k}]\n"),
            "providers[0]: api_key_env and api_key_file cannot both be set (set at most one)");
}

TEST(LoaderTest, ExpandsEnvironmentVariables) {
  const Config config = ParseOrDie(R"(
workers: ${WORKERS}
providers:
  - name: ${NAME:-openai}
    base_url: ${BASE}/v1
    api_key_file: "$${literal}"
)",
                                   FakeEnv({{"WORKERS", "4"}, {"BASE", "https://gw.internal"}}));
  EXPECT_EQ(config.workers(), 4u);
  EXPECT_EQ(config.providers(0).name(), "openai");
  EXPECT_EQ(config.providers(0).base_url(), "https://gw.internal/v1");
  EXPECT_EQ(config.providers(0).api_key_file(), "${literal}");
}

TEST(LoaderTest, ReportsUnsetVariablesWithTheirPath) {
  EXPECT_EQ(ParseError("providers: [{base_url: \"${X}\"}]\n"),
            "providers[0].base_url: environment variable \"X\" is not set");
}

TEST(LoaderTest, ChecksTypesAfterExpansion) {
  EXPECT_EQ(ParseError("workers: ${WORKERS}\n", FakeEnv({{"WORKERS", "many"}})),
            "workers: expected an unsigned integer, got \"many\"");
}

TEST(LoaderTest, ReportsEveryErrorOfAFile) {
  absl::StatusOr<Config> config = LoadConfigFile(kTestdata + "/errors.yaml", FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "workers: expected an unsigned integer, got \"abc\"\n"
            "providers[0].kind: unknown value \"opnai\" (expected one of: openai, anthropic, "
            "gemini, azure_openai, openai_compatible)\n"
            "providers[0].base_url: environment variable \"OPENAI_BASE_URL\" is not set\n"
            "routes[0].timeouts.first_byte: invalid duration \"2 seconds\" (use e.g. 500ms, 2s, "
            "1m)\n"
            "routes[1].targets[0].provder: unknown key (expected one of: provider, model, "
            "priority, weight)");
}

TEST(LoaderTest, SyntaxErrorsCarryLineAndColumn) {
  EXPECT_EQ(ParseError("listen: 127.0.0.1:4000\nworkers: [1, 2\n"),
            "<config>:3:1: YAML syntax error: end of sequence flow not found");
}

TEST(LoaderTest, SyntaxErrorsInAFileNameTheFile) {
  const std::string path = kTestdata + "/syntax_error.yaml";
  absl::StatusOr<Config> config = LoadConfigFile(path, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            path + ":4:4: YAML syntax error: end of sequence not found");
}

TEST(LoaderTest, RejectsMoreThanOneDocument) {
  EXPECT_EQ(ParseError("workers: 1\n---\nworkers: 2\n"),
            "<config>: expected one YAML document, found 2");
}

TEST(LoaderTest, MissingFileIsNotFoundAndNamesThePath) {
  const std::string path = kTestdata + "/does-not-exist.yaml";
  absl::StatusOr<Config> config = LoadConfigFile(path, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(config.status().message(),
            absl::StrCat("cannot read \"", path, "\": No such file or directory"));
}

TEST(LoaderTest, DirectoryIsNotAConfigFile) {
  absl::StatusOr<Config> config = LoadConfigFile(kTestdata, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("Is a directory"));
}

}  // namespace
}  // namespace llmesh::config

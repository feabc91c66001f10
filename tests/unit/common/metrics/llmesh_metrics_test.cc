#include "common/metrics/llmesh_metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace llmesh::metrics {
namespace {

using ::testing::HasSubstr;

constexpr char kPromtool[] = "/usr/bin/promtool";

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs `promtool check metrics` with `input` on its stdin; returns its exit code and its
// stdout+stderr.
CommandResult PromtoolCheckMetrics(const std::string& input) {
  std::string path = ::testing::TempDir() + "llmesh_metrics_XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return {};
  const bool written = ::write(fd, input.data(), input.size()) ==
                       static_cast<ssize_t>(input.size());
  ::close(fd);
  CommandResult result;
  if (!written) return result;
  const std::string command =
      std::string(kPromtool) + " check metrics < '" + path + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ::unlink(path.c_str());
  return result;
}

void Populate(ProxyMetrics& m) {
  m.requests.Get({"chat", "openai", "gpt-4o", CodeClass(200)}).Inc(10);
  m.requests.Get({"chat", "anthropic", "claude-sonnet-4", CodeClass(503)}).Inc();
  m.attempts.Get({"openai", "gpt-4o", label::kOutcomeSuccess}).Inc(10);
  m.attempts.Get({"anthropic", "claude-sonnet-4", "rate_limited"}).Inc(2);
  m.failovers.Get({"chat", "anthropic", "rate_limited"}).Inc(2);
  m.request_duration.Get({"chat", "openai", "gpt-4o"}).Observe(0.8);
  m.request_duration.Get({"chat", "openai", "gpt-4o"}).Observe(200);
  m.time_to_first_token.Get({"chat", "openai", "gpt-4o"}).Observe(0.12);
  m.tokens.Get({"openai", "gpt-4o", label::kTokenPrompt}).Inc(120);
  m.tokens.Get({"openai", "gpt-4o", label::kTokenCompletion}).Inc(480);
  m.cost_usd.Get({"openai", "gpt-4o"}).Add(0.00123);
  SetProviderState(m.provider_state.Get({"openai", "gpt-4o"}), ProviderState::kHealthy);
  SetProviderState(m.provider_state.Get({"anthropic", "claude-sonnet-4"}),
                   ProviderState::kCoolingDown);
  m.retry_budget_exhausted.Get({"anthropic"}).Inc();
  m.config_version_info.Set({"3f2a9c"});
  m.gen_ai_operation_duration
      .Get({label::kGenAiOperationChat, "openai", "gpt-4o", "gpt-4o-2024-08-06"})
      .Observe(0.8);
  m.gen_ai_token_usage
      .Get({label::kGenAiOperationChat, "openai", "gpt-4o", "gpt-4o-2024-08-06",
            label::kGenAiTokenInput})
      .Observe(120);
  m.gen_ai_token_usage
      .Get({label::kGenAiOperationChat, "openai", "gpt-4o", "gpt-4o-2024-08-06",
            label::kGenAiTokenOutput})
      .Observe(480);
}

TEST(ProxyMetricsTest, RenderedOutputPassesPromtoolCheckMetrics) {
  ASSERT_EQ(::access(kPromtool, X_OK), 0)
      << kPromtool << " not found: install the Debian package \"prometheus\" "
      << "(scripts/install-deps.sh does)";
  Registry registry;
  ProxyMetrics metrics(registry);
  Populate(metrics);
  const std::string text = registry.Render();
  const CommandResult result = PromtoolCheckMetrics(text);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n--- input ---\n" << text;
  EXPECT_EQ(result.output, "");
}

TEST(ProxyMetricsTest, RegistersEveryDesignFamilyWithItsLabels) {
  Registry registry;
  ProxyMetrics metrics(registry);
  const std::string text = registry.Render();
  for (const char* type_line : {
           "# TYPE llmesh_requests_total counter\n",
           "# TYPE llmesh_attempts_total counter\n",
           "# TYPE llmesh_failovers_total counter\n",
           "# TYPE llmesh_request_duration_seconds histogram\n",
           "# TYPE llmesh_time_to_first_token_seconds histogram\n",
           "# TYPE llmesh_tokens_total counter\n",
           "# TYPE llmesh_cost_usd_total counter\n",
           "# TYPE llmesh_provider_state gauge\n",
           "# TYPE llmesh_retry_budget_exhausted_total counter\n",
           "# TYPE llmesh_config_version_info gauge\n",
           "# TYPE gen_ai_client_operation_duration_seconds histogram\n",
           "# TYPE gen_ai_client_token_usage histogram\n",
       }) {
    EXPECT_THAT(text, HasSubstr(type_line));
  }
  EXPECT_EQ(metrics.requests.label_names(),
            (std::vector<std::string>{"route", "provider", "model", "code_class"}));
  EXPECT_EQ(metrics.attempts.label_names(),
            (std::vector<std::string>{"provider", "model", "outcome"}));
  EXPECT_EQ(metrics.failovers.label_names(),
            (std::vector<std::string>{"route", "from_provider", "reason"}));
  EXPECT_EQ(metrics.tokens.label_names(),
            (std::vector<std::string>{"provider", "model", "type"}));
  EXPECT_EQ(metrics.gen_ai_token_usage.label_names(),
            (std::vector<std::string>{"gen_ai_operation_name", "gen_ai_provider_name",
                                      "gen_ai_request_model", "gen_ai_response_model",
                                      "gen_ai_token_type"}));
  EXPECT_EQ(metrics.gen_ai_operation_duration.bounds(),
            (std::vector<double>{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12,
                                 10.24, 20.48, 40.96, 81.92}));
  EXPECT_EQ(metrics.gen_ai_token_usage.bounds().back(), 67108864);
}

TEST(ProxyMetricsTest, ConstructingTwiceOnOneRegistryReusesFamilies) {
  Registry registry;
  ProxyMetrics first(registry);
  first.requests.Get({"chat", "openai", "gpt-4o", "2xx"}).Inc();
  ProxyMetrics second(registry);
  EXPECT_EQ(&first.requests, &second.requests);
  EXPECT_EQ(second.requests.Get({"chat", "openai", "gpt-4o", "2xx"}).Value(), 1);
}

TEST(ProxyMetricsTest, ConfigVersionInfoShowsOnlyTheCurrentVersion) {
  Registry registry;
  ProxyMetrics metrics(registry);
  metrics.config_version_info.Set({"v1"});
  metrics.config_version_info.Set({"v2"});
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("llmesh_config_version_info{version=\"v2\"} 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("version=\"v1\"")));
}

TEST(CodeClassTest, MapsStatusToClass) {
  EXPECT_EQ(CodeClass(200), "2xx");
  EXPECT_EQ(CodeClass(429), "4xx");
  EXPECT_EQ(CodeClass(529), "5xx");
  EXPECT_EQ(CodeClass(0), "other");
  EXPECT_EQ(CodeClass(600), "other");
}

}  // namespace
}  // namespace llmesh::metrics

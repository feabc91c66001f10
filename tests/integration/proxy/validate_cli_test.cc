// `llmesh-proxy --config FILE --validate` and start-up config errors (proxy/main.cc,
// docs/configuration.md): every error is listed with its field path and the exit code says
// whether the file is usable.
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kExitTimeout{20000};

constexpr std::string_view kValidConfig =
    "listen: 127.0.0.1:0\n"
    "admin_listen: 127.0.0.1:0\n"
    "providers:\n"
    "  - name: primary\n"
    "    kind: openai\n"
    "    base_url: http://127.0.0.1:9/v1\n"
    "    api_key_env: KEY_primary\n"
    "    models: [{name: fake-model, context_window: 1000}]\n"
    "routes:\n"
    "  - model: chat\n"
    "    targets:\n"
    "      - {provider: primary, model: fake-model}\n";

// Three independent mistakes: an unknown key, a target naming no provider, a bad duration.
constexpr std::string_view kConfigWithThreeErrors =
    "listen: 127.0.0.1:0\n"
    "admin_listen: 127.0.0.1:0\n"
    "providers:\n"
    "  - name: primary\n"
    "    kind: openai\n"
    "    base_url: http://127.0.0.1:9/v1\n"
    "    api_key_env: KEY_primary\n"
    "    models: [{name: fake-model, context_window: 1000}]\n"
    "routes:\n"
    "  - model: chat\n"
    "    retries: 3\n"
    "    targets:\n"
    "      - {provider: primary, model: fake-model}\n"
    "      - {provider: nowhere, model: fake-model}\n"
    "    timeouts: {first_byte: ten seconds}\n";

class ValidateCliTest : public ProxyTest {
 protected:
  // Runs llmesh-proxy with `args` to completion; returns its exit code (-1 if it did not exit).
  int Run(std::vector<std::string> args) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> process =
        ChildProcess::Start(BinaryPath("llmesh-proxy"), std::move(args), {{"KEY_primary", "primary-key"}});
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return -1;
    process_ = *std::move(process);
    std::optional<int> exit_code = process_->WaitExit(kExitTimeout);
    // Exiting closes the pipes; wait for the reader to collect what is left.
    process_->WaitForLine([](std::string_view) { return false; }, kExitTimeout);
    return exit_code.value_or(-1);
  }

  std::unique_ptr<ChildProcess> process_;
};

TEST_F(ValidateCliTest, InvalidFileExits1ListingEveryErrorWithItsFieldPath) {
  const std::string path = temp().WriteFile("bad.yaml", kConfigWithThreeErrors);
  EXPECT_EQ(Run({"--config", path, "--validate"}), 1);
  const std::string output = process_->Output();
  EXPECT_NE(output.find(path), std::string::npos) << output;
  EXPECT_NE(output.find("routes[0].retries: unknown key"), std::string::npos) << output;
  EXPECT_NE(output.find(R"(routes[0].targets[1].provider: unknown provider "nowhere")"), std::string::npos)
      << output;
  EXPECT_NE(output.find(R"(routes[0].timeouts.first_byte: invalid duration "ten seconds")"), std::string::npos)
      << output;
  EXPECT_EQ(output.find("config OK"), std::string::npos) << output;
}

TEST_F(ValidateCliTest, ValidFileExits0WithTheOneLineSummary) {
  const std::string path = temp().WriteFile("good.yaml", kValidConfig);
  EXPECT_EQ(Run({"--config", path, "--validate"}), 0);
  const std::vector<std::string> lines = process_->Lines();
  ASSERT_EQ(lines.size(), 1u) << process_->Output();
  EXPECT_TRUE(lines[0].starts_with("config OK:")) << lines[0];
  EXPECT_EQ(lines[0], "config OK: 1 provider (1 model), 1 route, 1 target");
}

TEST_F(ValidateCliTest, MissingConfigFileExits1NamingThePath) {
  const std::string path = temp().path() + "/no-such-file.yaml";
  EXPECT_EQ(Run({"--config", path}), 1);
  EXPECT_NE(process_->Output().find(path), std::string::npos) << process_->Output();
}

}  // namespace
}  // namespace llmesh::testing

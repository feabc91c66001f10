// Real-client translation test: the official `openai` npm SDK answered through llmesh-proxy by
// an Anthropic-flavour and a Gemini-flavour fake (tests/js/translation_openai_sdk.test.mjs), and
// the official `@anthropic-ai/sdk` answered through /v1/messages by an OpenAI-flavour fake
// (tests/js/anthropic_sdk.test.mjs). Text and tool calls, streamed and not.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "gtest/gtest.h"
#include "tests/fakes/process_harness.h"

namespace llmesh::testing {
namespace {

using std::chrono::seconds;

constexpr char kProviderKeyEnv[] = "LLMESH_SDK_TEST_PROVIDER_KEY";
constexpr char kProviderKey[] = "provider-key-from-the-sidecar-config";

// $0 anthropic fake port, $1 gemini fake port, $2 openai fake port, $3 the key's variable.
constexpr char kProxyConfig[] = R"(listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
workers: 1
providers:
  - name: claude
    kind: anthropic
    base_url: http://127.0.0.1:$0/v1
    api_key_env: $3
    models: [{name: fake-model}]
  - name: gem
    kind: gemini
    base_url: http://127.0.0.1:$1/v1beta
    api_key_env: $3
    models: [{name: fake-model}]
  - name: gpt
    kind: openai
    base_url: http://127.0.0.1:$2/v1
    api_key_env: $3
    models: [{name: fake-model}]
routes:
  - model: via-anthropic
    targets: [{provider: claude, model: fake-model}]
  - model: via-gemini
    targets: [{provider: gem, model: fake-model}]
  - model: via-openai
    targets: [{provider: gpt, model: fake-model}]
)";

std::unique_ptr<ChildProcess> Spawn(std::string binary, std::vector<std::string> args, EnvVars env = {}) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(binary, std::move(args), std::move(env));
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? std::move(*child) : nullptr;
}

struct Fake {
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;

  std::string Control() const { return absl::StrCat("http://127.0.0.1:", port, "/_fake"); }
};

Fake StartFake(std::string_view name, std::string_view flavor) {
  Fake fake;
  fake.process = Spawn(BinaryPath("llmesh-fake-provider"),
                       {"--listen", "127.0.0.1:0", "--name", std::string(name), "--flavor", std::string(flavor),
                        "--api-key", kProviderKey});
  if (fake.process == nullptr) return fake;
  absl::StatusOr<uint16_t> port = fake.process->WaitForListening("fake", seconds(30));
  EXPECT_TRUE(port.ok()) << port.status();
  fake.port = port.ok() ? *port : 0;
  return fake;
}

TEST(TranslationSdkTest, OfficialClientsGetTextAndToolCallsFromProvidersOfAnotherFormat) {
  const std::string js_dir = SourcePath("tests/js");
  ASSERT_TRUE(std::filesystem::exists(js_dir + "/node_modules/@anthropic-ai/sdk/package.json"))
      << js_dir << "/node_modules is missing: run scripts/install-deps.sh";

  const Fake claude = StartFake("claude", "anthropic");
  const Fake gem = StartFake("gem", "gemini");
  const Fake gpt = StartFake("gpt", "openai");
  ASSERT_TRUE(claude.port != 0 && gem.port != 0 && gpt.port != 0);

  ScopedTempDir dir;
  const std::string config =
      dir.WriteFile("llmesh.yaml", absl::Substitute(kProxyConfig, claude.port, gem.port, gpt.port, kProviderKeyEnv));
  auto proxy = Spawn(BinaryPath("llmesh-proxy"), {"--config", config}, {{kProviderKeyEnv, kProviderKey}});
  ASSERT_NE(proxy, nullptr);
  absl::StatusOr<uint16_t> proxy_port = proxy->WaitForListening("proxy", seconds(30));
  ASSERT_TRUE(proxy_port.ok()) << proxy_port.status() << proxy->Output();

  const std::string routes = absl::Substitute(
      R"([{"model":"via-anthropic","text":"claude-0 claude-1 claude-2 ","control":"$0"},)"
      R"({"model":"via-gemini","text":"gem-0 gem-1 gem-2 ","control":"$1"}])",
      claude.Control(), gem.Control());
  auto node = Spawn("node",
                    {"--test", js_dir + "/translation_openai_sdk.test.mjs", js_dir + "/anthropic_sdk.test.mjs"},
                    {{"LLMESH_BASE_URL", absl::StrCat("http://127.0.0.1:", *proxy_port, "/v1")},
                     {"LLMESH_TRANSLATED_ROUTES", routes},
                     {"LLMESH_ANTHROPIC_BASE_URL", absl::StrCat("http://127.0.0.1:", *proxy_port)},
                     {"LLMESH_ANTHROPIC_MODEL", "via-openai"},
                     {"LLMESH_ANTHROPIC_TEXT", "gpt-0 gpt-1 gpt-2 "},
                     {"LLMESH_ANTHROPIC_CONTROL", gpt.Control()}});
  ASSERT_NE(node, nullptr);
  std::optional<int> exit_code = node->WaitExit(seconds(120));
  ASSERT_TRUE(exit_code.has_value()) << "node --test still running after 120s:\n" << node->Output();
  EXPECT_EQ(*exit_code, 0) << node->Output() << "\nproxy:\n" << proxy->Output();
}

}  // namespace
}  // namespace llmesh::testing

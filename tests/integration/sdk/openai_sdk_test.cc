// Real-client test: the official `openai` npm SDK (tests/js/openai_sdk.test.mjs and
// openai_sdk_errors.test.mjs, run by one `node --test`) talks to llmesh-proxy, which forwards to
// llmesh-fake-provider. Checks what an application sees (text, streaming, usage, typed errors,
// embeddings, llmesh headers, provider failures on a single-target route) and that the
// application's API key stays on its side of the proxy.
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kProviderKeyEnv[] = "LLMESH_SDK_TEST_PROVIDER_KEY";
constexpr char kProviderKey[] = "provider-key-from-the-sidecar-config";
// The key tests/js/*.test.mjs give the SDK.
constexpr char kClientKey[] = "client-key-that-must-not-be-forwarded";
// The fake provider's default answer for `--name <name>`: pieces "<name>-<i> ", i = 0..2.
constexpr char kExpectedText[] = "primary-0 primary-1 primary-2 ";
constexpr char kSoloExpectedText[] = "solo-0 solo-1 solo-2 ";

// Route `chat` serves openai_sdk.test.mjs from fake `primary`; route `solo` has fake `solo` as
// its only target, which openai_sdk_errors.test.mjs scripts. Separate fakes keep the scripted
// failures away from the other file's requests, whatever order node runs the files in.
constexpr char kProxyConfig[] = R"(listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
workers: 1
providers:
  - name: primary
    kind: openai
    base_url: http://127.0.0.1:$0/v1
    api_key_env: $2
    models:
      - {name: fake-model}
  - name: solo
    kind: openai
    base_url: http://127.0.0.1:$1/v1
    api_key_env: $2
    models:
      - {name: fake-model}
routes:
  - model: chat
    targets:
      - {provider: primary, model: fake-model}
  - model: solo
    targets:
      - {provider: solo, model: fake-model}
)";

std::unique_ptr<ChildProcess> Spawn(std::string binary, std::vector<std::string> args,
                                    EnvVars env = {}) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(binary, std::move(args), std::move(env));
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? std::move(*child) : nullptr;
}

// A fake provider that answers only requests carrying the sidecar's provider key (any other
// key is a 401, which fails the JS test that sent it).
std::unique_ptr<ChildProcess> SpawnFake(std::string_view name) {
  return Spawn(BinaryPath("llmesh-fake-provider"),
               {"--listen", "127.0.0.1:0", "--name", std::string(name), "--api-key", kProviderKey});
}

// The fake's last API request carried the provider's key, and the client's key appears nowhere
// in what the fake recorded.
void ExpectOnlyProviderKeyArrived(uint16_t fake_port) {
  HttpResponse stats =
      Request(fake_port, boost::beast::http::verb::get, "/_fake/stats", {}, {}, seconds(10));
  ASSERT_EQ(stats.status, 200) << stats.error << stats.body;
  EXPECT_THAT(stats.body, Not(HasSubstr(kClientKey)));
  boost::json::value parsed = ParseJson(stats.body);
  const boost::json::value* authorization =
      parsed.is_object() ? parsed.as_object().if_contains("last_request") : nullptr;
  if (authorization != nullptr && authorization->is_object()) {
    authorization = authorization->as_object().if_contains("authorization");
  } else {
    authorization = nullptr;
  }
  ASSERT_NE(authorization, nullptr) << "no last_request.authorization in " << stats.body;
  EXPECT_EQ(*authorization, boost::json::value(absl::StrCat("Bearer ", kProviderKey)));
}

TEST(OpenAiSdkTest, OfficialClientWorksThroughProxyAndItsKeyIsNotForwarded) {
  const std::string js_dir = SourcePath("tests/js");
  ASSERT_TRUE(std::filesystem::exists(js_dir + "/node_modules/openai/package.json"))
      << js_dir << "/node_modules is missing: run scripts/install-deps.sh";

  auto primary = SpawnFake("primary");
  ASSERT_NE(primary, nullptr);
  absl::StatusOr<uint16_t> primary_port = primary->WaitForListening("fake", seconds(30));
  ASSERT_TRUE(primary_port.ok()) << primary_port.status();
  auto solo = SpawnFake("solo");
  ASSERT_NE(solo, nullptr);
  absl::StatusOr<uint16_t> solo_port = solo->WaitForListening("fake", seconds(30));
  ASSERT_TRUE(solo_port.ok()) << solo_port.status();

  ScopedTempDir dir;
  std::string config = dir.WriteFile(
      "llmesh.yaml", absl::Substitute(kProxyConfig, *primary_port, *solo_port, kProviderKeyEnv));
  auto proxy =
      Spawn(BinaryPath("llmesh-proxy"), {"--config", config}, {{kProviderKeyEnv, kProviderKey}});
  ASSERT_NE(proxy, nullptr);
  absl::StatusOr<uint16_t> proxy_port = proxy->WaitForListening("proxy", seconds(30));
  ASSERT_TRUE(proxy_port.ok()) << proxy_port.status();
  absl::StatusOr<uint16_t> admin_port = proxy->WaitForListening("admin", seconds(30));
  ASSERT_TRUE(admin_port.ok()) << admin_port.status();

  auto node = Spawn("node",
                    {"--test", js_dir + "/openai_sdk.test.mjs", js_dir + "/openai_sdk_errors.test.mjs"},
                    {{"LLMESH_BASE_URL", absl::StrCat("http://127.0.0.1:", *proxy_port, "/v1")},
                     {"LLMESH_MODEL", "chat"},
                     {"LLMESH_EXPECT_TEXT", kExpectedText},
                     {"LLMESH_SOLO_MODEL", "solo"},
                     {"LLMESH_SOLO_EXPECT_TEXT", kSoloExpectedText},
                     {"LLMESH_FAKE_CONTROL_URL",
                      absl::StrCat("http://127.0.0.1:", *solo_port, "/_fake")}});
  ASSERT_NE(node, nullptr);
  std::optional<int> exit_code = node->WaitExit(seconds(120));
  ASSERT_TRUE(exit_code.has_value()) << "node --test still running after 120s:\n" << node->Output();
  EXPECT_EQ(*exit_code, 0) << node->Output();

  {
    SCOPED_TRACE("fake primary");
    ExpectOnlyProviderKeyArrived(*primary_port);
  }
  {
    SCOPED_TRACE("fake solo");
    ExpectOnlyProviderKeyArrived(*solo_port);
  }
}

}  // namespace
}  // namespace llmesh::testing

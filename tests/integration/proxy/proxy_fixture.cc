#include "tests/integration/proxy/proxy_fixture.h"


namespace llmesh::testing {
namespace {

namespace beast_http = boost::beast::http;
constexpr std::chrono::seconds kStartTimeout{20};

}  // namespace

void ProxyTest::UseProtocol(HttpProtocol protocol) {
  protocol_ = protocol;
  if (protocol != HttpProtocol::kHttp2 || provider_tls_.has_value()) return;
  TestPki pki;
  const CertifiedKey cert = pki.Issue({}, {"127.0.0.1"});
  provider_tls_ = FakeProviderTls{temp_.WriteFile("provider-cert.pem", cert.cert_pem),
                                  temp_.WriteFile("provider-key.pem", cert.key_pem),
                                  temp_.WriteFile("provider-ca.pem", pki.ca_pem())};
}

FakeProviderProcess& ProxyTest::StartProvider(std::string_view name, std::string_view flavor) {
  providers_.push_back(FakeProviderProcess::Start(name, flavor, provider_tls_ ? &*provider_tls_ : nullptr));
  return *providers_.back();
}

std::string ProxyTest::ChatConfig(std::string_view route_extra, std::string_view top_extra,
                                  std::string_view provider_extra) const {
  std::string yaml =
      "listen: 127.0.0.1:0\n"
      "admin_listen: 127.0.0.1:0\n"
      "workers: 2\n"
      "access_log: {path: off}\n";
  yaml += top_extra;
  yaml += "providers:\n";
  for (const auto& fake : providers_) {
    yaml += "  - name: " + fake->name + "\n";
    yaml += "    kind: " + fake->Kind() + "\n";
    yaml += "    base_url: " + fake->BaseUrl() + "\n";
    yaml += "    api_key_env: KEY_" + fake->name + "\n";
    if (!fake->ca_file.empty()) yaml += "    ca_file: " + fake->ca_file + "\n";
    yaml += "    models: [{name: fake-model, context_window: 1000, input_usd_per_mtok: 1, output_usd_per_mtok: 2}]\n";
    yaml += provider_extra;
  }
  yaml += "routes:\n  - model: chat\n    targets:\n";
  for (size_t i = 0; i < providers_.size(); ++i) {
    yaml += "      - {provider: " + providers_[i]->name + ", model: fake-model, priority: " + std::to_string(i) + "}\n";
  }
  yaml += route_extra;
  return yaml;
}

EnvVars ProxyTest::ProviderKeys() const {
  EnvVars env;
  for (const auto& fake : providers_) env.emplace_back("KEY_" + fake->name, fake->name + "-key");
  return env;
}

void ProxyTest::StartProxy(const std::string& yaml, std::vector<std::string> extra_args) {
  const std::string path = temp_.WriteFile("llmesh.yaml", yaml);
  std::vector<std::string> args = {"--config", path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(BinaryPath("llmesh-proxy"), args, ProviderKeys());
  ASSERT_TRUE(process.ok()) << process.status();
  proxy_ = *std::move(process);
  absl::StatusOr<uint16_t> port = proxy_->WaitForListening("proxy", kStartTimeout);
  ASSERT_TRUE(port.ok()) << port.status() << "\n" << proxy_->Output();
  proxy_port_ = *port;
  absl::StatusOr<uint16_t> admin = proxy_->WaitForListening("admin", kStartTimeout);
  ASSERT_TRUE(admin.ok()) << admin.status() << "\n" << proxy_->Output();
  admin_port_ = *admin;
}

std::string ProxyTest::ChatBody(bool stream, std::string_view model) const {
  boost::json::object body{{"model", model},
                           {"messages", boost::json::array{boost::json::object{{"role", "user"}, {"content", "hi"}}}}};
  if (stream) body["stream"] = true;
  return boost::json::serialize(body);
}

HttpResponse ProxyTest::ProxyRequest(beast_http::verb method, std::string_view target, std::string_view body,
                                     const HttpHeaders& headers) const {
  return Request(client(), proxy_port_, method, target, body, headers);
}

HttpResponse ProxyTest::Chat(bool stream, std::string_view model, const HttpHeaders& headers) const {
  return ProxyRequest(beast_http::verb::post, "/v1/chat/completions", ChatBody(stream, model), headers);
}

HttpResponse ProxyTest::Admin(std::string_view path) const {
  return Request(admin_port_, beast_http::verb::get, path);
}

double ProxyTest::Metric(std::string_view family, const std::vector<std::string>& labels) const {
  HttpResponse response = Admin("/metrics");
  EXPECT_EQ(response.status, 200);
  double sum = 0;
  std::string_view text = response.body;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.starts_with(family) || line.size() <= family.size()) continue;
    const char next = line[family.size()];
    if (next != '{' && next != ' ') continue;
    bool match = true;
    for (const std::string& label : labels) match = match && line.find(label) != std::string_view::npos;
    if (!match) continue;
    sum += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
  }
  return sum;
}

bool ProxyTest::MetricReaches(std::string_view family, const std::vector<std::string>& labels,
                              double value) const {
  if (WaitFor([&] { return Metric(family, labels) == value; }, std::chrono::seconds(5))) return true;
  ADD_FAILURE() << family << " is " << Metric(family, labels) << ", expected " << value;
  return false;
}

boost::json::object ProxyTest::ProviderHealth(std::string_view provider) const {
  HttpResponse response = Admin("/providers");
  EXPECT_EQ(response.status, 200);
  boost::json::value value = ParseJson(response.body);
  for (const boost::json::value& item : value.at("providers").as_array()) {
    if (item.at("provider").as_string() == provider) return item.as_object();
  }
  ADD_FAILURE() << "no provider " << provider << " in " << response.body;
  return {};
}

std::string ProtocolTestName(const ::testing::TestParamInfo<HttpProtocol>& info) {
  return ProtocolName(info.param);
}


}  // namespace llmesh::testing

#include "common/config/validate.h"

#include <openssl/ssl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/url/parse.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/absl_view.h"
#include "common/config/address.h"
#include "common/config/dump.h"
#include "common/config/file.h"
#include "common/tls/server_certificate.h"

namespace llmesh::config {
namespace {

using google::protobuf::RepeatedPtrField;
using llmesh::config::v1::Config;
using llmesh::config::v1::Model;
using llmesh::config::v1::OutlierDetection;
using llmesh::config::v1::Provider;
using llmesh::config::v1::Route;
using llmesh::config::v1::Slo;
using llmesh::config::v1::Target;

constexpr std::string_view kDefaultListen = "127.0.0.1:4000";
constexpr std::string_view kDefaultAdminListen = "127.0.0.1:9901";
constexpr uint32_t kMaxWorkers = 256;

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

std::string KindChoices() {
  std::vector<std::string> names;
  const auto* kinds = llmesh::config::v1::Provider_Kind_descriptor();
  for (int i = 1; i < kinds->value_count(); ++i) {
    names.push_back(absl::AsciiStrToLower(kinds->value(i)->name()));
  }
  return absl::StrJoin(names, ", ");
}

bool IsProviderName(std::string_view name) {
  for (char c : name) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return !name.empty();
}

// RFC 9110 token characters.
bool IsHeaderName(std::string_view name) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        kSpecials.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return !name.empty();
}

class Validator {
 public:
  // `env` null: the host's environment and files are not consulted (see ValidatePortable).
  explicit Validator(const EnvLookup* env) : env_(env) {}

  std::vector<ConfigError> Run(const Config& config) {
    CheckListeners(config);
    CheckListenTls(config);
    if (config.workers() > kMaxWorkers) {
      Error("workers", absl::StrCat(config.workers(), " is more than the maximum of ",
                                    kMaxWorkers));
    }
    if (config.has_limits()) {
      CheckPositive("limits", "client_timeout", config.limits().has_client_timeout(),
                    config.limits().client_timeout());
      CheckPositive("limits", "drain_timeout", config.limits().has_drain_timeout(),
                    config.limits().drain_timeout());
    }
    for (int i = 0; i < config.providers_size(); ++i) {
      CheckProvider(config.providers(i), IndexPath("providers", i));
    }
    CheckRoutes(config.routes());
    if (config.has_control_plane()) {
      const auto& cp = config.control_plane();
      if (cp.address().empty()) {
        Error("control_plane.address", "required");
      } else if (absl::StatusOr<HostPort> hp = ParseHostPort(cp.address()); !hp.ok()) {
        Error("control_plane.address", std::string(hp.status().message()));
      } else if (hp->port == 0) {
        Error("control_plane.address",
              absl::StrCat("port 0 in ", Quote(cp.address()), " is not a reachable port"));
      }
      if (cp.node_id().empty()) Error("control_plane.node_id", "required");
    }
    return std::move(errors_);
  }

 private:
  void Error(std::string path, std::string message) {
    errors_.push_back(ConfigError{std::move(path), std::move(message)});
  }

  // Parses one listener address; nullopt (after reporting) when it is set and invalid.
  std::optional<HostPort> Listener(std::string_view field, const std::string& value,
                                   std::string_view fallback) {
    absl::StatusOr<HostPort> hp = ParseHostPort(value.empty() ? fallback : value);
    if (!hp.ok()) {
      Error(std::string(field), std::string(hp.status().message()));
      return std::nullopt;
    }
    return *std::move(hp);
  }

  void CheckListeners(const Config& config) {
    const std::optional<HostPort> listen = Listener("listen", config.listen(), kDefaultListen);
    const std::optional<HostPort> admin =
        Listener("admin_listen", config.admin_listen(), kDefaultAdminListen);
    // Port 0 twice is fine: each listener gets its own free port.
    if (listen && admin && listen->port != 0 && listen->port == admin->port &&
        listen->host == admin->host) {
      Error("admin_listen",
            absl::StrCat(Quote(config.admin_listen().empty() ? AbslView(kDefaultAdminListen)
                                                             : config.admin_listen()),
                         " is the same address as listen"));
    }
  }

  // Reads both files (blocking: validation runs where config is loaded, never on a worker) and
  // checks that they are PEM and that the key belongs to the certificate. Portable validation
  // (no host to look at) checks only that both are named.
  void CheckListenTls(const Config& config) {
    if (!config.has_listen_tls()) return;
    const std::string& cert = config.listen_tls().cert_file();
    const std::string& key = config.listen_tls().key_file();
    if (cert.empty()) Error("listen_tls.cert_file", "required");
    if (key.empty()) Error("listen_tls.key_file", "required");
    if (cert.empty() || key.empty() || env_ == nullptr) return;
    const size_t errors_before = errors_.size();
    CheckReadableFile("listen_tls.cert_file", cert);
    CheckReadableFile("listen_tls.key_file", key);
    if (errors_.size() != errors_before) return;
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_server_method()),
                                                              &SSL_CTX_free);
    if (std::optional<tls::CertificateError> error =
            tls::LoadServerCertificate(context.get(), cert, key, "listen_tls.")) {
      Error(std::move(error->field), std::move(error->message));
    }
  }

  // A set Duration must be > 0; returns it when set and well-formed.
  std::optional<absl::Duration> CheckPositive(std::string_view parent, std::string_view field,
                                              bool has, const google::protobuf::Duration& d) {
    if (!has) return std::nullopt;
    const std::string path = FieldPath(parent, field);
    if (d.nanos() <= -1'000'000'000 || d.nanos() >= 1'000'000'000) {
      Error(path, absl::StrCat("invalid duration (nanos ", d.nanos(), " out of range)"));
      return std::nullopt;
    }
    const absl::Duration value = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
    if (value <= absl::ZeroDuration()) {
      Error(path, absl::StrCat("must be positive, got ", absl::FormatDuration(value)));
      return std::nullopt;
    }
    return value;
  }

  // Reports `later` when it is longer than `limit` (both set); "first_byte: 90s is longer than
  // total 60s".
  void CheckNotLonger(std::string_view parent, std::string_view later_name,
                      std::optional<absl::Duration> later, absl::string_view limit_name,
                      std::optional<absl::Duration> limit) {
    if (!later || !limit || *later <= *limit) return;
    Error(FieldPath(parent, later_name),
          absl::StrCat(absl::FormatDuration(*later), " is longer than ", limit_name, " ",
                       absl::FormatDuration(*limit)));
  }

  void CheckReadableFile(const std::string& path, const std::string& file) {
    if (file.empty()) {
      Error(path, "must not be empty");
      return;
    }
    if (env_ == nullptr) return;
    if (absl::Status s = CheckReadable(file); !s.ok()) Error(path, std::string(s.message()));
  }

  void CheckProvider(const Provider& provider, const std::string& path) {
    const std::string name_path = FieldPath(path, "name");
    if (provider.name().empty()) {
      Error(name_path, "required");
    } else if (!IsProviderName(provider.name())) {
      Error(name_path, absl::StrCat("invalid name ", Quote(provider.name()),
                                    " (use only a-z, 0-9, \"_\" and \"-\")"));
    } else if (auto [it, inserted] = providers_.try_emplace(provider.name(), &provider, path);
               !inserted) {
      Error(name_path, absl::StrCat("duplicate provider name ", Quote(provider.name()),
                                    " (also ", it->second.second, ")"));
    }
    if (provider.kind() == Provider::KIND_UNSPECIFIED) {
      Error(FieldPath(path, "kind"), absl::StrCat("required (one of: ", KindChoices(), ")"));
    } else if (!Provider::Kind_IsValid(provider.kind())) {
      Error(FieldPath(path, "kind"), absl::StrCat("unknown value ", provider.kind()));
    }
    if (provider.preset() != Provider::PRESET_UNSPECIFIED && provider.kind() != Provider::OPENAI_COMPATIBLE) {
      Error(FieldPath(path, "preset"), "applies only to kind openai_compatible");
    }
    if (!provider.api_version().empty() && provider.kind() != Provider::AZURE_OPENAI) {
      Error(FieldPath(path, "api_version"), "applies only to kind azure_openai");
    }
    // The loader fills the default; a config built elsewhere (a control-plane push) must say.
    if (provider.api_version().empty() && provider.kind() == Provider::AZURE_OPENAI) {
      Error(FieldPath(path, "api_version"), "required for kind azure_openai");
    }
    CheckBaseUrl(provider.base_url(), FieldPath(path, "base_url"));
    // Every known mode works with both schemes (prior_knowledge is h2c on http), so only a value
    // this build does not know is refused.
    if (!Provider::Http2_IsValid(provider.http2())) {
      Error(FieldPath(path, "http2"), absl::StrCat("unknown value ", provider.http2()));
    }
    if (provider.credential_case() == Provider::kApiKeyEnv) {
      const std::string env_path = FieldPath(path, "api_key_env");
      const std::string& var = provider.api_key_env();
      if (var.empty()) {
        Error(env_path, "must not be empty");
      } else if (env_ == nullptr) {
        // Set or not where the config runs, not here.
      } else if (std::optional<std::string> value = (*env_)(var); !value.has_value()) {
        Error(env_path, absl::StrCat("environment variable ", Quote(var), " is not set"));
      } else if (value->empty()) {
        Error(env_path, absl::StrCat("environment variable ", Quote(var), " is empty"));
      }
    } else if (provider.credential_case() == Provider::kApiKeyFile) {
      CheckReadableFile(FieldPath(path, "api_key_file"), provider.api_key_file());
    }
    CheckModels(provider.models(), FieldPath(path, "models"));
    if (!provider.ca_file().empty()) {
      CheckReadableFile(FieldPath(path, "ca_file"), provider.ca_file());
    }
    if (provider.has_outlier_detection()) {
      CheckOutlierDetection(provider.outlier_detection(), FieldPath(path, "outlier_detection"));
    }
  }

  void CheckBaseUrl(const std::string& url, const std::string& path) {
    if (url.empty()) {
      Error(path, "required");
      return;
    }
    // The URL may carry credentials, so messages show its redacted form.
    const std::string shown = Quote(RedactUrl(url));
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) {
      Error(path, absl::StrCat("invalid URL ", shown, " (expected an absolute http or https URL)"));
      return;
    }
    const auto scheme = parsed->scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
      Error(path, absl::StrCat("unsupported scheme \"", std::string(parsed->scheme()),
                               "\" in ", shown, " (use http or https)"));
      return;
    }
    if (parsed->encoded_host().empty()) {
      Error(path, absl::StrCat("missing host in ", shown));
    }
  }

  void CheckModels(const RepeatedPtrField<Model>& models, const std::string& path) {
    absl::flat_hash_map<std::string, int> seen;
    for (int i = 0; i < models.size(); ++i) {
      const Model& model = models[i];
      const std::string model_path = IndexPath(path, i);
      if (model.name().empty()) {
        Error(FieldPath(model_path, "name"), "required");
      } else if (auto [it, inserted] = seen.try_emplace(model.name(), i); !inserted) {
        Error(FieldPath(model_path, "name"), absl::StrCat("duplicate model ", Quote(model.name()),
                                                          " (also models[", it->second, "])"));
      }
      CheckPrice(FieldPath(model_path, "input_usd_per_mtok"), model.input_usd_per_mtok());
      CheckPrice(FieldPath(model_path, "output_usd_per_mtok"), model.output_usd_per_mtok());
    }
  }

  void CheckPrice(std::string path, double price) {
    if (!(price >= 0) || !std::isfinite(price)) {
      Error(std::move(path), absl::StrCat("must be a non-negative number, got ", price));
    }
  }

  void CheckOutlierDetection(const OutlierDetection& od, const std::string& path) {
    const double threshold = od.failure_percentage_threshold();
    if (!(threshold >= 0 && threshold <= 100)) {
      Error(FieldPath(path, "failure_percentage_threshold"),
            absl::StrCat("must be between 0 and 100, got ", threshold));
    }
    const auto base = CheckPositive(path, "base_ejection_time", od.has_base_ejection_time(),
                                    od.base_ejection_time());
    const auto max = CheckPositive(path, "max_ejection_time", od.has_max_ejection_time(),
                                   od.max_ejection_time());
    CheckPositive(path, "failure_percentage_window", od.has_failure_percentage_window(),
                  od.failure_percentage_window());
    if (base && max && *max < *base) {
      Error(FieldPath(path, "max_ejection_time"),
            absl::StrCat(absl::FormatDuration(*max), " is shorter than base_ejection_time ",
                         absl::FormatDuration(*base)));
    }
  }

  void CheckRoutes(const RepeatedPtrField<Route>& routes) {
    absl::flat_hash_map<std::string, int> models;
    // Effective name -> (route index, whether the name was written out).
    absl::flat_hash_map<std::string, std::pair<int, bool>> names;
    for (int i = 0; i < routes.size(); ++i) {
      const Route& route = routes[i];
      const std::string path = IndexPath("routes", i);
      if (route.model().empty()) {
        Error(FieldPath(path, "model"), "required");
      } else if (auto [it, inserted] = models.try_emplace(route.model(), i); !inserted) {
        Error(FieldPath(path, "model"), absl::StrCat("duplicate route for model ",
                                                     Quote(route.model()), " (also routes[",
                                                     it->second, "])"));
      }
      const bool named = !route.name().empty();
      const std::string& name = named ? route.name() : route.model();
      if (!name.empty()) {
        auto [it, inserted] = names.try_emplace(name, i, named);
        // Two unnamed routes share a name only when they share a model, reported above.
        if (!inserted && (named || it->second.second)) {
          Error(FieldPath(path, "name"), absl::StrCat("duplicate route name ", Quote(name),
                                                      " (also routes[", it->second.first, "])"));
        }
      }
      if (!Route::Strategy_IsValid(route.strategy())) {
        Error(FieldPath(path, "strategy"), absl::StrCat("unknown value ", route.strategy()));
      }
      CheckTargets(route.targets(), FieldPath(path, "targets"));
      if (route.has_timeouts()) CheckTimeouts(route.timeouts(), FieldPath(path, "timeouts"));
      if (route.has_retry()) CheckRetry(route.retry(), FieldPath(path, "retry"));
      for (int h = 0; h < route.match_headers_size(); ++h) {
        const std::string& header = route.match_headers(h).name();
        const std::string header_path =
            FieldPath(IndexPath(FieldPath(path, "match_headers"), h), "name");
        if (header.empty()) {
          Error(header_path, "required");
        } else if (!IsHeaderName(header)) {
          Error(header_path, absl::StrCat("invalid header name ", Quote(header)));
        }
      }
      CheckPositive(path, "hedge_delay", route.has_hedge_delay(), route.hedge_delay());
      if (route.has_slo()) CheckSlo(route.slo(), FieldPath(path, "slo"));
    }
  }

  void CheckSlo(const Slo& slo, const std::string& path) {
    const auto share = [&](std::string_view field, bool has, double value) {
      if (has && !(value >= 0 && value <= 1)) {
        Error(FieldPath(path, field), absl::StrCat("must be between 0 and 1, got ", value));
      }
    };
    share("max_error_rate", slo.has_max_error_rate(), slo.max_error_rate());
    share("max_rate_limited_share", slo.has_max_rate_limited_share(), slo.max_rate_limited_share());
    CheckPositive(path, "max_p95_latency", slo.has_max_p95_latency(), slo.max_p95_latency());
    CheckPositive(path, "max_p95_ttft", slo.has_max_p95_ttft(), slo.max_p95_ttft());
  }

  void CheckTargets(const RepeatedPtrField<Target>& targets, const std::string& path) {
    if (targets.empty()) {
      Error(path, "at least one target is required");
      return;
    }
    absl::flat_hash_map<std::pair<std::string, std::string>, int> seen;
    for (int i = 0; i < targets.size(); ++i) {
      const Target& target = targets[i];
      const std::string target_path = IndexPath(path, i);
      const Provider* provider = nullptr;
      if (target.provider().empty()) {
        Error(FieldPath(target_path, "provider"), "required");
      } else if (auto it = providers_.find(target.provider()); it == providers_.end()) {
        Error(FieldPath(target_path, "provider"),
              absl::StrCat("unknown provider ", Quote(target.provider())));
      } else {
        provider = it->second.first;
      }
      if (target.model().empty()) {
        Error(FieldPath(target_path, "model"), "required");
      } else if (provider != nullptr && !ServesModel(*provider, target.model())) {
        Error(FieldPath(target_path, "model"),
              absl::StrCat("unknown model ", Quote(target.model()), " for provider ",
                           Quote(provider->name())));
      }
      if (target.has_weight() && target.weight() < 1) {
        Error(FieldPath(target_path, "weight"),
              absl::StrCat("must be at least 1, got ", target.weight()));
      }
      if (target.provider().empty() || target.model().empty()) continue;
      auto [it, inserted] = seen.try_emplace(std::pair(target.provider(), target.model()), i);
      if (!inserted) {
        Error(target_path, absl::StrCat("duplicate of targets[", it->second, "] (provider ",
                                        Quote(target.provider()), ", model ",
                                        Quote(target.model()), ")"));
      }
    }
  }

  static bool ServesModel(const Provider& provider, const std::string& model) {
    for (const Model& m : provider.models()) {
      if (m.name() == model) return true;
    }
    return false;
  }

  void CheckTimeouts(const llmesh::config::v1::Timeouts& t, const std::string& path) {
    CheckPositive(path, "connect", t.has_connect(), t.connect());
    const auto first_byte = CheckPositive(path, "first_byte", t.has_first_byte(), t.first_byte());
    CheckPositive(path, "idle", t.has_idle(), t.idle());
    const auto per_try = CheckPositive(path, "per_try", t.has_per_try(), t.per_try());
    const auto total = CheckPositive(path, "total", t.has_total(), t.total());
    CheckNotLonger(path, "first_byte", first_byte, "total", total);
    CheckNotLonger(path, "per_try", per_try, "total", total);
  }

  void CheckRetry(const llmesh::config::v1::Retry& retry, const std::string& path) {
    const double budget = retry.budget_percent();
    // 0 is proto3's "unset" (default 20).
    if (budget != 0 && !(budget > 0 && budget <= 100)) {
      Error(FieldPath(path, "budget_percent"),
            absl::StrCat("must be greater than 0 and at most 100, got ", budget));
    }
    CheckPositive(path, "max_cooldown", retry.has_max_cooldown(), retry.max_cooldown());
  }

  const EnvLookup* env_;
  std::vector<ConfigError> errors_;
  // Valid provider names -> (first provider of that name, its path).
  absl::flat_hash_map<std::string, std::pair<const Provider*, std::string>> providers_;
};

}  // namespace

std::vector<ConfigError> Validate(const Config& config, const EnvLookup& env) {
  return Validator(&env).Run(config);
}

std::vector<ConfigError> ValidatePortable(const Config& config) {
  return Validator(nullptr).Run(config);
}

absl::Status ValidateToStatus(const Config& config, const EnvLookup& env) {
  return ErrorsToStatus(Validate(config, env));
}

absl::Status ValidateToStatus(const PartialConfig& loaded, const EnvLookup& env) {
  std::vector<ConfigError> errors = loaded.errors;
  // "routes[0].timeouts" covers "routes[0].timeouts.first_byte", not "routes[0].timeouts_x".
  const auto covered = [&](const std::string& path) {
    for (const ConfigError& error : loaded.errors) {
      if (error.path.empty()) return true;
      if (absl::StartsWith(path, error.path) &&
          (path.size() == error.path.size() || path[error.path.size()] == '.' ||
           path[error.path.size()] == '[')) {
        return true;
      }
    }
    return false;
  };
  for (ConfigError& error : Validate(loaded.config, env)) {
    if (!covered(error.path)) errors.push_back(std::move(error));
  }
  return ErrorsToStatus(errors);
}

std::string Summary(const Config& config) {
  int models = 0;
  for (const Provider& p : config.providers()) models += p.models_size();
  int targets = 0;
  for (const Route& r : config.routes()) targets += r.targets_size();
  const auto count = [](int n, absl::string_view noun) {
    return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
  };
  return absl::StrCat("config OK: ", count(config.providers_size(), "provider"), " (",
                      count(models, "model"), "), ", count(config.routes_size(), "route"), ", ",
                      count(targets, "target"));
}

}  // namespace llmesh::config

#include "controlplane/ctl/render.h"

#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "controlplane/ctl/table.h"
#include "google/protobuf/util/json_util.h"

namespace llmesh::control::ctl {
namespace {

namespace adminpb = llmesh::admin::v1;
namespace configpb = llmesh::config::v1;

constexpr size_t kShortVersion = 12;

// Enum names as the config file writes them ("openai", "weighted"); "-" for UNSPECIFIED.
std::string EnumText(const std::string& name) {
  if (name.empty() || name.ends_with("UNSPECIFIED")) return "-";
  return absl::AsciiStrToLower(name);
}

std::string Short(std::string_view version) {
  if (version.empty()) return "-";
  return std::string(version.substr(0, kShortVersion));
}

std::string Duration(const google::protobuf::Duration& d) {
  if (d.seconds() == 0 && d.nanos() == 0) return "-";
  return absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
}

std::string Percent(double share) { return absl::StrFormat("%.2f%%", share * 100.0); }

std::string Basis(uint32_t basis_points) {
  return absl::StrFormat("%.2f%%", basis_points / 100.0);
}

std::string Targets(const configpb::Route& route) {
  std::vector<std::string> targets;
  for (const configpb::Target& target : route.targets()) {
    std::string text = absl::StrCat(target.provider(), "/", target.model());
    if (target.priority() != 0) absl::StrAppend(&text, "@", target.priority());
    targets.push_back(std::move(text));
  }
  return targets.empty() ? "-" : absl::StrJoin(targets, ",");
}

std::string FirstLine(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

}  // namespace

void PrintRoutes(const adminpb::ListRoutesResponse& response, std::ostream& out) {
  Table table({"NAME", "MODEL", "STRATEGY", "TARGETS", "ETAG"});
  for (const adminpb::StoredRoute& stored : response.routes()) {
    const configpb::Route& route = stored.route();
    table.AddRow({llmesh::config::RouteName(route), route.model(),
                  EnumText(configpb::Route::Strategy_Name(route.strategy())), Targets(route),
                  stored.etag()});
  }
  table.Print(out);
}

void PrintProviders(const adminpb::ListProvidersResponse& response, std::ostream& out) {
  Table table({"NAME", "KIND", "BASE_URL", "MODELS", "ETAG"});
  for (const adminpb::StoredProvider& stored : response.providers()) {
    const configpb::Provider& provider = stored.provider();
    std::vector<std::string> models;
    for (const configpb::Model& model : provider.models()) models.push_back(model.name());
    table.AddRow({provider.name(), EnumText(configpb::Provider::Kind_Name(provider.kind())),
                  provider.base_url().empty() ? "-" : provider.base_url(),
                  models.empty() ? "-" : absl::StrJoin(models, ","), stored.etag()});
  }
  table.Print(out);
}

void PrintSidecars(const adminpb::ListSidecarsResponse& response, std::ostream& out) {
  Table table({"NODE", "STATUS", "CONNECTED", "PEER", "ROUTES", "WEIGHTS", "LAST_SEEN", "ERROR"});
  for (const adminpb::Sidecar& sidecar : response.sidecars()) {
    std::string routes = "-", weights = "-", error;
    for (const adminpb::SidecarTypeState& type : sidecar.types()) {
      std::string applied = Short(type.applied_version());
      if (type.type_url().ends_with(".RouteConfiguration")) routes = applied;
      if (type.type_url().ends_with(".WeightAssignment")) weights = applied;
      if (type.status() == adminpb::NACKED && error.empty()) {
        // The first field violation names what to fix; the message only says what failed.
        const auto& nack = type.last_error();
        error = absl::StrCat(Short(type.nacked_version()), ": ",
                             nack.field_violations_size() > 0 ? nack.field_violations(0)
                                                              : FirstLine(nack.message()));
      }
    }
    table.AddRow({sidecar.node().id(), EnumText(adminpb::SyncStatus_Name(sidecar.status())),
                  sidecar.connected() ? "yes" : "no", sidecar.peer().empty() ? "-" : sidecar.peer(),
                  routes, weights, FormatTimestamp(sidecar.last_seen()), error});
  }
  table.Print(out);
}

void PrintHealth(const adminpb::GetHealthResponse& response, std::ostream& out) {
  Table table({"ROUTE", "PROVIDER", "MODEL", "PRIO", "ATTEMPTS", "ERRORS", "RATE_LIMITED", "P50",
               "P95", "P99", "COST/SUCCESS", "SLO", "WEIGHT", "BASIS", "REASON"});
  for (const adminpb::RouteHealth& route : response.routes()) {
    for (const adminpb::TargetHealth& t : route.targets()) {
      table.AddRow({route.route(), t.provider(), t.model(), absl::StrCat(t.priority()),
                    absl::StrCat(t.attempts()), Percent(t.error_rate()),
                    Percent(t.rate_limited_share()), Duration(t.latency_p50()),
                    Duration(t.latency_p95()), Duration(t.latency_p99()),
                    absl::StrFormat("$%.6f", t.cost_per_success_usd()),
                    t.slo_met() ? "met" : "breached", Basis(t.weight()),
                    EnumText(llmesh::discovery::v1::WeightBasis_Name(t.weight_basis())),
                    t.weight_reason()});
    }
  }
  table.Print(out);
  out << "window: " << Duration(response.window())
      << ", reporting sidecars: " << response.reporting_sidecars() << '\n';
}

std::string OverrideAction(const adminpb::WeightOverride& override_) {
  if (override_.has_drain()) return "drain";
  return absl::StrCat("weight ", override_.weight(), " (", Basis(override_.weight()), ")");
}

void PrintOverrides(const adminpb::ListWeightOverridesResponse& response, std::ostream& out) {
  Table table({"ROUTE", "PROVIDER", "MODEL", "ACTION", "EXPIRES", "COMMENT"});
  for (const adminpb::WeightOverride& o : response.overrides()) {
    table.AddRow({o.route(), o.provider(), o.model(), OverrideAction(o),
                  FormatTimestamp(o.expire_time()), o.comment()});
  }
  table.Print(out);
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(timestamp.seconds()),
                          absl::UTCTimeZone());
}

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Serialising a well-formed message cannot fail; an empty object is still printed if it did.
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) json = "{}\n";
  out << json;
  if (json.empty() || json.back() != '\n') out << '\n';
}

}  // namespace llmesh::control::ctl

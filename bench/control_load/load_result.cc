#include "bench/control_load/load_result.h"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmesh::bench {
namespace {

namespace json = boost::json;

double Round(double value, double unit) { return std::round(value / unit) * unit; }

json::object SpreadJson(const Spread& s) {
  return {{"p50", Round(s.p50, 0.01)}, {"p99", Round(s.p99, 0.01)}, {"max", Round(s.max, 0.01)}};
}

json::value SampleJson(const std::optional<ProcessSample>& s) {
  if (!s.has_value()) return nullptr;
  return json::object{{"rss_kib", s->rss_kib},
                      {"hwm_kib", s->hwm_kib},
                      {"threads", s->threads},
                      {"fds", s->fds}};
}

// Two-space indented JSON, like the other files in bench/results/.
void Pretty(const json::value& v, std::string& out, int indent) {
  const size_t inner = static_cast<size_t>(indent) + 2;
  if (v.is_object() && !v.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, value] : v.get_object()) {
      if (!first) out += ",\n";
      first = false;
      out.append(inner, ' ');
      out += json::serialize(json::string(key));
      out += ": ";
      Pretty(value, out, indent + 2);
    }
    out += '\n';
    out.append(inner - 2, ' ');
    out += '}';
  } else if (v.is_array() && !v.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const json::value& value : v.get_array()) {
      if (!first) out += ",\n";
      first = false;
      out.append(inner, ' ');
      Pretty(value, out, indent + 2);
    }
    out += '\n';
    out.append(inner - 2, ' ');
    out += ']';
  } else if (v.is_double()) {
    // Boost.JSON writes doubles in exponent form ("1.29287E3"); figures read better plain.
    out += absl::StrFormat("%.15g", v.get_double());
  } else {
    out += json::serialize(v);
  }
}

std::string Mib(const std::optional<ProcessSample>& s) {
  if (!s.has_value()) return "n/a";
  return absl::StrFormat("%.1f/%.1f MiB (%d threads, %d fds)", s->rss_kib / 1024.0,
                         s->hwm_kib / 1024.0, s->threads, s->fds);
}

}  // namespace

Spread SpreadOf(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const auto rank = [&](double q) {
    const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(i, 1, values.size()) - 1];
  };
  return {rank(0.5), rank(0.99), values.back()};
}

void PrintSummary(const LoadResult& r, std::ostream& out) {
  out << absl::StrFormat(
      "control_load: %d sidecars over %d connections, %d routes (%d-byte route configuration), "
      "llmesh-control %s\n",
      r.sidecars, r.connections, r.routes, r.route_configuration_bytes,
      r.spawned ? absl::StrFormat("pid %d (started by the harness)", r.pid.value_or(0))
                : (r.pid ? absl::StrFormat("pid %d (running)", *r.pid) : std::string("(running)")));
  out << absl::StrFormat("streams opened, initial routes ACKed by all: %.1f ms\n",
                         r.open_all_acked_ms);
  if (!r.changes.empty()) {
    out << "route change   apply ms   all ACKed after apply ms   per-stream ACK from apply sent "
           "p50 / p99 / max ms   ListSidecars all SYNCED after apply ms\n";
    for (size_t i = 0; i < r.changes.size(); ++i) {
      const RouteChangeResult& c = r.changes[i];
      out << absl::StrFormat("%12d %10.1f %26.1f %24.1f / %.1f / %.1f %38.1f\n", i + 1, c.apply_ms,
                             c.all_acked_after_apply_ms, c.per_stream_ms.p50, c.per_stream_ms.p99,
                             c.per_stream_ms.max, c.control_plane_synced_after_apply_ms);
    }
  }
  if (r.telemetry.has_value()) {
    const TelemetryResult& t = *r.telemetry;
    out << absl::StrFormat(
        "telemetry (%s, %d targets and %d bytes per report, %.1f s window): %.0f reports/s "
        "absorbed (%.0f attempts/s), round trip p50 %.0f us p99 %.0f us, %s refused\n",
        t.target_rate > 0 ? absl::StrFormat("paced at %.0f reports/s", t.target_rate)
                          : std::string("back to back, 1 in flight per sidecar"),
        t.targets_per_report, t.report_bytes, t.window_seconds, t.reports_per_second,
        t.attempts_per_second, t.round_trip_p50_us, t.round_trip_p99_us,
        t.refused ? absl::StrCat(*t.refused) : std::string("n/a"));
    out << absl::StrFormat(
        "  control plane CPU %.2f cores (%.1f us per report), harness CPU %.2f cores; GetHealth "
        "window holds %d attempts of %d acked, %d sidecars reporting\n",
        t.control_plane_cpu_seconds / t.window_seconds,
        t.reports_acked > 0 ? t.control_plane_cpu_seconds * 1e6 / t.reports_acked : 0.0,
        t.harness_cpu_seconds / t.window_seconds, t.window_attempts, t.attempts_sent,
        t.reporting_sidecars);
  }
  out << "llmesh-control VmRSS/VmHWM: idle " << Mib(r.idle) << "; streams open "
      << Mib(r.streams_open) << "; after telemetry " << Mib(r.after_telemetry) << "\n";
}

std::string ToJson(const LoadResult& r) {
  json::object root;
  root["sidecars"] = r.sidecars;
  root["connections"] = r.connections;
  root["routes"] = r.routes;
  root["route_configuration_bytes"] = r.route_configuration_bytes;
  root["control_plane"] = json::object{{"spawned", r.spawned},
                                       {"pid", r.pid ? json::value(*r.pid) : json::value(nullptr)}};
  root["open_all_acked_ms"] = Round(r.open_all_acked_ms, 0.01);
  json::array changes;
  for (const RouteChangeResult& c : r.changes) {
    changes.push_back(json::object{
        {"version", c.version},
        {"apply_ms", Round(c.apply_ms, 0.01)},
        {"all_acked_after_apply_ms", Round(c.all_acked_after_apply_ms, 0.01)},
        {"per_stream_ack_ms_from_apply_sent", SpreadJson(c.per_stream_ms)},
        {"control_plane_synced_after_apply_ms",
         Round(c.control_plane_synced_after_apply_ms, 0.01)}});
  }
  root["route_changes"] = std::move(changes);
  if (r.telemetry.has_value()) {
    const TelemetryResult& t = *r.telemetry;
    root["telemetry"] = json::object{
        {"target_rate", t.target_rate},
        {"window_s", Round(t.window_seconds, 0.001)},
        {"reports_acked", t.reports_acked},
        {"reports_per_s", Round(t.reports_per_second, 0.1)},
        {"attempts_per_s", Round(t.attempts_per_second, 0.1)},
        {"targets_per_report", t.targets_per_report},
        {"report_bytes", t.report_bytes},
        {"round_trip_us", json::object{{"p50", Round(t.round_trip_p50_us, 1)},
                                       {"p99", Round(t.round_trip_p99_us, 1)}}},
        {"refused", t.refused ? json::value(*t.refused) : json::value(nullptr)},
        {"attempts_sent", t.attempts_sent},
        {"window_attempts", t.window_attempts},
        {"reporting_sidecars", t.reporting_sidecars},
        {"control_plane_cpu_s", Round(t.control_plane_cpu_seconds, 0.01)},
        {"harness_cpu_s", Round(t.harness_cpu_seconds, 0.01)}};
  }
  root["control_plane_process"] = json::object{{"idle", SampleJson(r.idle)},
                                               {"streams_open", SampleJson(r.streams_open)},
                                               {"after_telemetry", SampleJson(r.after_telemetry)}};
  std::string out;
  Pretty(root, out, 0);
  return out + "\n";
}

}  // namespace llmesh::bench

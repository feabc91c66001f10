#include "common/metrics/registry.h"

#include <cmath>
#include <set>
#include <type_traits>

#include "absl/strings/str_join.h"
#include "common/log/log.h"
#include "common/log/utf8.h"

namespace llmesh::metrics {
namespace {

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kInfo: return "gauge";
  }
  return "untyped";
}

std::string_view KindName(MetricType type) {
  return type == MetricType::kInfo ? "info" : TypeName(type);
}

std::string JoinBounds(const std::vector<double>& bounds) {
  std::string out;
  for (const double b : bounds) {
    if (!out.empty()) out.push_back(',');
    text::AppendValue(&out, b);
  }
  return out;
}

// Bad names and buckets are fixed in code, not input: abort at startup rather than serve a
// scrape that Prometheus rejects as a whole.
void ValidateOrDie(const std::string& name, MetricType type,
                   const std::vector<std::string>& label_names,
                   const std::vector<double>& bounds) {
  if (!text::IsValidMetricName(name)) {
    log::Fatal("invalid metric name", {{"metric", name}});
  }
  std::set<std::string_view> seen;
  for (const std::string& label : label_names) {
    if (!text::IsValidLabelName(label)) {
      log::Fatal("invalid metric label name", {{"metric", name}, {"label", label}});
    }
    if (!seen.insert(label).second) {
      log::Fatal("duplicate metric label name", {{"metric", name}, {"label", label}});
    }
    if (type == MetricType::kHistogram && label == "le") {
      log::Fatal("histogram may not have an \"le\" label", {{"metric", name}});
    }
  }
  if (type != MetricType::kHistogram) return;
  if (bounds.empty()) log::Fatal("histogram has no buckets", {{"metric", name}});
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      log::Fatal("histogram buckets must be finite and strictly increasing",
                 {{"metric", name}, {"buckets", JoinBounds(bounds)}});
    }
  }
}

}  // namespace

Family::Family(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

std::vector<std::string> Family::KeyOf(absl::Span<const std::string_view> values) const {
  if (values.size() != label_names_.size()) {
    log::Fatal("wrong number of metric label values",
               {{"metric", name_},
                {"labels", absl::StrJoin(label_names_, ",")},
                {"values", values.size()}});
  }
  std::vector<std::string> key;
  key.reserve(values.size());
  for (const std::string_view v : values) key.push_back(log::SanitizeUtf8(v));
  return key;
}

std::string Family::LabelTextOf(const std::vector<std::string>& key) const {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(label_names_[i]);
    out.append("=\"");
    text::AppendEscapedLabelValue(&out, key[i]);
    out.push_back('"');
  }
  return out;
}

template <typename T>
SeriesFamily<T>::SeriesFamily(std::string name, std::string help, MetricType type,
                              std::vector<std::string> label_names, std::vector<double> bounds)
    : Family(std::move(name), std::move(help), type, std::move(label_names)),
      bounds_(std::move(bounds)) {}

template <typename T>
T& SeriesFamily<T>::Get(absl::Span<const std::string_view> label_values) {
  std::vector<std::string> key = KeyOf(label_values);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_labels_.find(key);
  if (it != by_labels_.end()) return *it->second.series;
  T* series;
  if constexpr (std::is_same_v<T, Histogram>) {
    series = &series_.emplace_back(&bounds_);
  } else {
    series = &series_.emplace_back();
  }
  std::string label_text = LabelTextOf(key);
  by_labels_.emplace(std::move(key), Entry{std::move(label_text), series});
  return *series;
}

template <typename T>
T& SeriesFamily<T>::Get(const std::vector<std::string>& label_values) {
  std::vector<std::string_view> views(label_values.begin(), label_values.end());
  return Get(absl::MakeConstSpan(views));
}

template <typename T>
void SeriesFamily<T>::RenderSamples(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, entry] : by_labels_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      const HistogramSnapshot snap = entry.series->Snapshot();
      const std::string_view sep = entry.label_text.empty() ? "" : ",";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < snap.counts.size(); ++i) {
        cumulative += snap.counts[i];
        out->append(name());
        out->append("_bucket{");
        out->append(entry.label_text);
        out->append(sep);
        out->append("le=\"");
        if (i < snap.bounds.size()) {
          text::AppendValue(out, snap.bounds[i]);
        } else {
          out->append("+Inf");
        }
        out->append("\"} ");
        text::AppendValue(out, static_cast<double>(cumulative));
        out->push_back('\n');
      }
      const std::string labels = entry.label_text.empty() ? "" : "{" + entry.label_text + "}";
      out->append(name()).append("_sum").append(labels).push_back(' ');
      text::AppendValue(out, snap.sum);
      out->push_back('\n');
      out->append(name()).append("_count").append(labels).push_back(' ');
      text::AppendValue(out, static_cast<double>(snap.count));
      out->push_back('\n');
    } else {
      out->append(name());
      if (!entry.label_text.empty()) out->append("{").append(entry.label_text).append("}");
      out->push_back(' ');
      text::AppendValue(out, entry.series->Value());
      out->push_back('\n');
    }
  }
}

template class SeriesFamily<Counter>;
template class SeriesFamily<Gauge>;
template class SeriesFamily<Histogram>;

void InfoFamily::Set(absl::Span<const std::string_view> label_values) {
  std::string label_text = LabelTextOf(KeyOf(label_values));
  std::lock_guard<std::mutex> lock(mu_);
  label_text_ = std::move(label_text);
  set_ = true;
}

void InfoFamily::RenderSamples(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!set_) return;
  out->append(name());
  if (!label_text_.empty()) out->append("{").append(label_text_).append("}");
  out->append(" 1\n");
}

Family& Registry::Add(std::string name, std::string help, MetricType type,
                      std::vector<std::string> label_names, std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    Family& existing = *it->second;
    const std::vector<double>* existing_bounds = nullptr;
    if (existing.type() == MetricType::kHistogram) {
      existing_bounds = &static_cast<HistogramFamily&>(existing).bounds();
    }
    if (existing.type() != type || existing.help() != help ||
        existing.label_names() != label_names ||
        (existing_bounds != nullptr && *existing_bounds != bounds)) {
      log::Fatal("metric registered twice with different definitions",
                 {{"metric", name},
                  {"type", KindName(existing.type())},
                  {"labels", absl::StrJoin(existing.label_names(), ",")},
                  {"new_type", KindName(type)},
                  {"new_labels", absl::StrJoin(label_names, ",")}});
    }
    return existing;
  }
  ValidateOrDie(name, type, label_names, bounds);
  std::unique_ptr<Family> family;
  switch (type) {
    case MetricType::kCounter:
      family.reset(new CounterFamily(name, std::move(help), type, std::move(label_names), {}));
      break;
    case MetricType::kGauge:
      family.reset(new GaugeFamily(name, std::move(help), type, std::move(label_names), {}));
      break;
    case MetricType::kHistogram:
      family.reset(new HistogramFamily(name, std::move(help), type, std::move(label_names),
                                       std::move(bounds)));
      break;
    case MetricType::kInfo:
      family.reset(new InfoFamily(name, std::move(help), std::move(label_names)));
      break;
  }
  Family& added = *family;
  families_.emplace(std::move(name), std::move(family));
  return added;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  return static_cast<CounterFamily&>(
      Add(std::move(name), std::move(help), MetricType::kCounter, std::move(label_names), {}));
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names) {
  return static_cast<GaugeFamily&>(
      Add(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names), {}));
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bucket_bounds) {
  return static_cast<HistogramFamily&>(Add(std::move(name), std::move(help),
                                           MetricType::kHistogram, std::move(label_names),
                                           std::move(bucket_bounds)));
}

InfoFamily& Registry::AddInfo(std::string name, std::string help,
                              std::vector<std::string> label_names) {
  return static_cast<InfoFamily&>(
      Add(std::move(name), std::move(help), MetricType::kInfo, std::move(label_names), {}));
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, family] : families_) {
    out.append("# HELP ").append(name).push_back(' ');
    text::AppendEscapedHelp(&out, family->help());
    out.append("\n# TYPE ").append(name).push_back(' ');
    out.append(TypeName(family->type()));
    out.push_back('\n');
    family->RenderSamples(&out);
  }
  return out;
}

Registry& DefaultRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace llmesh::metrics

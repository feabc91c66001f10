// Metric families, the registry that owns them, and Prometheus text exposition (0.0.4).
//
//   Registry& registry = DefaultRegistry();
//   CounterFamily& requests = registry.AddCounter("llmesh_requests_total", "Requests.",
//                                                 {"route", "code_class"});
//   Counter& ok = requests.Get({"chat", "2xx"});   // at config compile, main thread
//   ok.Inc();                                       // on a worker: lock-free
//   std::string body = registry.Render();           // admin /metrics
//
// A family is a metric name with help text, a type and label names; a series is one set of
// label values in it. Registering a family or a series takes a mutex and allocates, so it
// happens when a config is compiled (main thread); recording into a series is lock-free (see
// metric.h). Families and series are never removed or moved: references stay valid for the
// registry's lifetime, and registering the same family or series again (a config reload)
// returns the same object. Registering a name again with another type, help, label names or
// buckets is a programming error and aborts with a message naming the metric.
//
// Cardinality is the caller's responsibility: label values come from config (route, provider,
// model names) or small closed sets (status class, failure kind), never from prompts, keys or
// user ids.
//
// Threading: every method may be called from any thread; Get() and Add*() may block briefly
// on a mutex, so a worker must not call them per request (cache the returned references).
#pragma once

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/types/span.h"
#include "common/metrics/metric.h"
#include "common/metrics/text_format.h"

namespace llmesh::metrics {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram, kInfo };

// What every family has; rendering entry point for the registry.
class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  Family(std::string name, std::string help, MetricType type,
         std::vector<std::string> label_names);

  // Label values as map key (invalid UTF-8 replaced), and their rendered `k="v",...` text.
  // Aborts if the number of values differs from the number of label names.
  std::vector<std::string> KeyOf(absl::Span<const std::string_view> values) const;
  std::string LabelTextOf(const std::vector<std::string>& key) const;

 private:
  friend class Registry;
  // Appends this family's sample lines (not HELP/TYPE).
  virtual void RenderSamples(std::string* out) const = 0;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// A family whose series are handles of type T (Counter, Gauge or Histogram).
template <typename T>
class SeriesFamily final : public Family {
 public:
  // The series for these label values (in label-name order), registered on first use. The
  // reference is valid for the registry's lifetime. Aborts on a wrong number of values.
  T& Get(std::initializer_list<std::string_view> label_values) {
    return Get(absl::MakeConstSpan(label_values.begin(), label_values.size()));
  }
  T& Get(absl::Span<const std::string_view> label_values);
  T& Get(const std::vector<std::string>& label_values);

  // Bucket upper bounds (histograms only; empty otherwise), without +Inf.
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  friend class Registry;
  SeriesFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, std::vector<double> bounds);
  void RenderSamples(std::string* out) const override;

  struct Entry {
    std::string label_text;  // `k="v",...`, escaped; empty without labels.
    T* series;
  };

  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::deque<T> series_ ABSL_GUARDED_BY(mu_);  // deque: growth never moves elements.
  std::map<std::vector<std::string>, Entry> by_labels_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = SeriesFamily<Counter>;
using GaugeFamily = SeriesFamily<Gauge>;
using HistogramFamily = SeriesFamily<Histogram>;

extern template class SeriesFamily<Counter>;
extern template class SeriesFamily<Gauge>;
extern template class SeriesFamily<Histogram>;

// An "info" metric: a gauge with exactly one series of value 1 whose labels describe the
// current state (e.g. the applied config version). Set() replaces the previous label set, so
// frequent changes do not grow the registry. Rendered as TYPE gauge; nothing until first Set.
class InfoFamily final : public Family {
 public:
  // Makes `label_values` the one series. Aborts on a wrong number of values.
  void Set(std::initializer_list<std::string_view> label_values) {
    Set(absl::MakeConstSpan(label_values.begin(), label_values.size()));
  }
  void Set(absl::Span<const std::string_view> label_values);

 private:
  friend class Registry;
  InfoFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : Family(std::move(name), std::move(help), MetricType::kInfo, std::move(label_names)) {}
  void RenderSamples(std::string* out) const override;

  mutable std::mutex mu_;
  bool set_ ABSL_GUARDED_BY(mu_) = false;
  std::string label_text_ ABSL_GUARDED_BY(mu_);
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or returns the already registered) family. `name` must be a valid metric name
  // (counters should end in _total), `label_names` valid label names without duplicates.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names);
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names);
  // `bucket_bounds`: finite, strictly increasing, non-empty; +Inf is implicit. "le" may not be
  // a label name.
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                std::vector<double> bucket_bounds);
  InfoFamily& AddInfo(std::string name, std::string help, std::vector<std::string> label_names);

  // Every family in name order, each as "# HELP", "# TYPE" and its series sorted by label
  // values; histograms as cumulative _bucket{le=...} series ending in le="+Inf", then _sum and
  // _count. Serve with kTextContentType. Allocates; not for the request path.
  std::string Render() const;

 private:
  Family& Add(std::string name, std::string help, MetricType type,
              std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

// The process-wide registry served on the admin /metrics endpoint. Never destroyed, so worker
// threads may record into it until the process exits.
Registry& DefaultRegistry();

}  // namespace llmesh::metrics

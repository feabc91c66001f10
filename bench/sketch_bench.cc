// CPU cost of the latency sketch on the paths that use it: Add per request on a sidecar worker,
// Quantile when the control plane reads a percentile, Merge when it folds a sidecar's report into
// the window, and the report's encode/decode (ToProto, FromProto).
//
// Run: build/bin/sketch_bench
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/metrics/latency_sketch.h"

namespace llmesh::metrics {
namespace {

// Heavy-tailed request latencies in microseconds: median 200 ms.
std::vector<double> Latencies(size_t n) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> dist(std::log(200e3), 1.5);
  std::vector<double> values(n);
  for (double& v : values) v = dist(rng);
  return values;
}

LatencySketch Filled(size_t n) {
  LatencySketch sketch;
  for (const double v : Latencies(n)) sketch.Add(v);
  return sketch;
}

void BM_Add(benchmark::State& state) {
  const std::vector<double> values = Latencies(4096);
  LatencySketch sketch;
  for (const double v : values) sketch.Add(v);  // Steady state: the range is already stored.
  size_t i = 0;
  for (auto _ : state) {
    sketch.Add(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(sketch.count());
}
BENCHMARK(BM_Add);

void BM_Quantile(benchmark::State& state) {
  const LatencySketch sketch = Filled(100000);
  for (auto _ : state) benchmark::DoNotOptimize(sketch.Quantile(0.95));
}
BENCHMARK(BM_Quantile);

void BM_Merge(benchmark::State& state) {
  const LatencySketch report = Filled(2000);
  LatencySketch window = Filled(100000);
  for (auto _ : state) benchmark::DoNotOptimize(window.Merge(report));
}
BENCHMARK(BM_Merge);

void BM_ToProto(benchmark::State& state) {
  const LatencySketch sketch = Filled(2000);
  telemetry::v1::LatencySketch proto;
  for (auto _ : state) {
    sketch.ToProto(&proto);
    benchmark::DoNotOptimize(proto.runs_size());
  }
}
BENCHMARK(BM_ToProto);

void BM_FromProto(benchmark::State& state) {
  telemetry::v1::LatencySketch proto;
  Filled(2000).ToProto(&proto);
  for (auto _ : state) benchmark::DoNotOptimize(LatencySketch::FromProto(proto));
}
BENCHMARK(BM_FromProto);

}  // namespace
}  // namespace llmesh::metrics

BENCHMARK_MAIN();

#include "common/metrics/metric.h"

#include <cmath>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace llmesh::metrics {
namespace {

TEST(CounterTest, SumsIntegerAndFractionalAmounts) {
  Counter counter;
  counter.Inc();
  counter.Inc(4);
  counter.Add(0.25);
  counter.Add(0.5);
  EXPECT_EQ(counter.Value(), 5.75);
}

TEST(CounterTest, IgnoresNegativeAndNanAmounts) {
  Counter counter;
  counter.Add(1.5);
  counter.Add(-1);
  counter.Add(std::nan(""));
  EXPECT_EQ(counter.Value(), 1.5);
}

TEST(GaugeTest, SetsAndAddsInBothDirections) {
  Gauge gauge;
  gauge.Set(3);
  gauge.Add(-1.5);
  EXPECT_EQ(gauge.Value(), 1.5);
  gauge.Set(-2);
  EXPECT_EQ(gauge.Value(), -2);
}

TEST(HistogramTest, PutsValueEqualToABoundInThatBucket) {
  const std::vector<double> bounds = {1, 2, 4};
  Histogram histogram(&bounds);
  histogram.Observe(0.5);
  histogram.Observe(1);
  histogram.Observe(2.5);
  histogram.Observe(4);
  histogram.Observe(9);
  const HistogramSnapshot snap = histogram.Snapshot();
  EXPECT_EQ(snap.counts, (std::vector<uint64_t>{2, 0, 2, 1}));
  EXPECT_EQ(snap.count, 5u);
  EXPECT_EQ(snap.sum, 17);
  EXPECT_EQ(snap.bounds, bounds);
}

TEST(HistogramTest, IgnoresNan) {
  const std::vector<double> bounds = {1};
  Histogram histogram(&bounds);
  histogram.Observe(std::nan(""));
  histogram.Observe(0.5);
  const HistogramSnapshot snap = histogram.Snapshot();
  EXPECT_EQ(snap.count, 1u);
  EXPECT_EQ(snap.sum, 0.5);
}

TEST(HistogramTest, QuantileInterpolatesInsideTheBucketHoldingTheRank) {
  const std::vector<double> bounds = {1, 2, 4};
  Histogram histogram(&bounds);
  for (int i = 0; i < 10; ++i) histogram.Observe(1.5);
  EXPECT_DOUBLE_EQ(histogram.Quantile(0.5), 1.5);
  EXPECT_DOUBLE_EQ(histogram.Quantile(0.9), 1.9);
  EXPECT_DOUBLE_EQ(histogram.Quantile(1), 2);
  // q=0 lands on the first bucket with data, not on the empty first bucket.
  EXPECT_DOUBLE_EQ(histogram.Quantile(0), 1);
}

TEST(HistogramTest, QuantileAcrossBucketsUsesCumulativeRank) {
  const std::vector<double> bounds = {0.1, 0.2, 0.4};
  Histogram histogram(&bounds);
  for (int i = 0; i < 50; ++i) histogram.Observe(0.05);
  for (int i = 0; i < 50; ++i) histogram.Observe(0.3);
  // Rank 75 is halfway through the (0.2, 0.4] bucket, which holds ranks 51-100.
  EXPECT_DOUBLE_EQ(histogram.Quantile(0.75), 0.3);
  // Rank 25 is halfway through the first bucket, which starts at 0.
  EXPECT_DOUBLE_EQ(histogram.Quantile(0.25), 0.05);
}

TEST(HistogramTest, QuantileInInfBucketReturnsHighestBound) {
  const std::vector<double> bounds = {1, 2};
  Histogram histogram(&bounds);
  histogram.Observe(10);
  EXPECT_EQ(histogram.Quantile(0.99), 2);
}

TEST(HistogramTest, QuantileOfEmptyHistogramIsNan) {
  const std::vector<double> bounds = {1, 2};
  Histogram histogram(&bounds);
  EXPECT_TRUE(std::isnan(histogram.Quantile(0.5)));
}

TEST(MetricConcurrencyTest, IncrementsFromFourThreadsSumExactly) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  Counter requests;
  Counter cost;
  Gauge in_flight;
  const std::vector<double> bounds = {1, 2};
  Histogram latency(&bounds);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        requests.Inc();
        cost.Add(0.5);  // Exactly representable, so the double sum is exact too.
        in_flight.Add(1);
        latency.Observe(1.5);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(requests.Value(), kThreads * kPerThread);
  EXPECT_EQ(cost.Value(), kThreads * kPerThread * 0.5);
  EXPECT_EQ(in_flight.Value(), kThreads * kPerThread);
  const HistogramSnapshot snap = latency.Snapshot();
  EXPECT_EQ(snap.count, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(snap.counts[1], static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(snap.sum, kThreads * kPerThread * 1.5);
}

}  // namespace
}  // namespace llmesh::metrics

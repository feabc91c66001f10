#include "common/metrics/registry.h"

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace llmesh::metrics {
namespace {

TEST(RegistryTest, RendersSmallRegistryExactly) {
  Registry registry;
  CounterFamily& requests =
      registry.AddCounter("test_requests_total", "Requests handled.", {"route", "code_class"});
  requests.Get({"chat", "5xx"}).Inc();
  requests.Get({"chat", "2xx"}).Inc(3);
  registry.AddGauge("test_in_flight", "Requests in flight.", {}).Get({}).Set(2.5);
  HistogramFamily& latency =
      registry.AddHistogram("test_latency_seconds", "Latency.", {"route"}, {0.25, 0.5, 1});
  Histogram& chat = latency.Get({"chat"});
  for (const double v : {0.125, 0.25, 0.75, 3.0}) chat.Observe(v);
  Counter& cost = registry.AddCounter("test_cost_usd_total", "Spend.", {}).Get({});
  cost.Add(0.25);
  cost.Add(0.5);
  InfoFamily& build = registry.AddInfo("test_build_info", "Build.", {"version"});
  build.Set({"v1"});
  build.Set({"v2"});
  registry.AddCounter("test_unused_total", "Never incremented.", {"route"});

  EXPECT_EQ(registry.Render(),
            "# HELP test_build_info Build.\n"
            "# TYPE test_build_info gauge\n"
            "test_build_info{version=\"v2\"} 1\n"
            "# HELP test_cost_usd_total Spend.\n"
            "# TYPE test_cost_usd_total counter\n"
            "test_cost_usd_total 0.75\n"
            "# HELP test_in_flight Requests in flight.\n"
            "# TYPE test_in_flight gauge\n"
            "test_in_flight 2.5\n"
            "# HELP test_latency_seconds Latency.\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{route=\"chat\",le=\"0.25\"} 2\n"
            "test_latency_seconds_bucket{route=\"chat\",le=\"0.5\"} 2\n"
            "test_latency_seconds_bucket{route=\"chat\",le=\"1\"} 3\n"
            "test_latency_seconds_bucket{route=\"chat\",le=\"+Inf\"} 4\n"
            "test_latency_seconds_sum{route=\"chat\"} 4.125\n"
            "test_latency_seconds_count{route=\"chat\"} 4\n"
            "# HELP test_requests_total Requests handled.\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{route=\"chat\",code_class=\"2xx\"} 3\n"
            "test_requests_total{route=\"chat\",code_class=\"5xx\"} 1\n"
            "# HELP test_unused_total Never incremented.\n"
            "# TYPE test_unused_total counter\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.AddGauge("test_gauge", "Line one\nback\\slash \"quoted\"", {"model"})
      .Get({"a\\b\"c\nd"})
      .Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP test_gauge Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE test_gauge gauge\n"
            "test_gauge{model=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(RegistryTest, ReplacesInvalidUtf8InLabelValues) {
  Registry registry;
  registry.AddGauge("test_gauge", "G.", {"model"}).Get({"gpt\xff"}).Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP test_gauge G.\n"
            "# TYPE test_gauge gauge\n"
            "test_gauge{model=\"gpt\xEF\xBF\xBD\"} 1\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeWithoutLabels) {
  Registry registry;
  Histogram& h = registry.AddHistogram("test_tokens", "Tokens.", {}, {1, 4, 16}).Get({});
  h.Observe(2);
  h.Observe(3);
  h.Observe(100);
  EXPECT_EQ(registry.Render(),
            "# HELP test_tokens Tokens.\n"
            "# TYPE test_tokens histogram\n"
            "test_tokens_bucket{le=\"1\"} 0\n"
            "test_tokens_bucket{le=\"4\"} 2\n"
            "test_tokens_bucket{le=\"16\"} 2\n"
            "test_tokens_bucket{le=\"+Inf\"} 3\n"
            "test_tokens_sum 105\n"
            "test_tokens_count 3\n");
}

TEST(RegistryTest, FormatsSpecialAndSmallValuesAsPrometheusParsesThem) {
  Registry registry;
  GaugeFamily& g = registry.AddGauge("test_gauge", "G.", {"k"});
  g.Get({"a"}).Set(1e-05);
  g.Get({"b"}).Set(std::numeric_limits<double>::infinity());
  g.Get({"c"}).Set(-std::numeric_limits<double>::infinity());
  g.Get({"d"}).Set(std::numeric_limits<double>::quiet_NaN());
  g.Get({"e"}).Set(123456789);
  EXPECT_EQ(registry.Render(),
            "# HELP test_gauge G.\n"
            "# TYPE test_gauge gauge\n"
            "test_gauge{k=\"a\"} 1e-05\n"
            "test_gauge{k=\"b\"} +Inf\n"
            "test_gauge{k=\"c\"} -Inf\n"
            "test_gauge{k=\"d\"} NaN\n"
            "test_gauge{k=\"e\"} 123456789\n");
}

TEST(RegistryTest, RegisteringAgainReturnsTheSameFamilyAndSeries) {
  Registry registry;
  CounterFamily& first = registry.AddCounter("test_total", "T.", {"route"});
  Counter& series = first.Get({"chat"});
  series.Inc();
  CounterFamily& second = registry.AddCounter("test_total", "T.", {"route"});
  EXPECT_EQ(&first, &second);
  Counter& again = second.Get(std::vector<std::string>{"chat"});
  EXPECT_EQ(&series, &again);
  EXPECT_EQ(again.Value(), 1);
}

TEST(RegistryTest, SeriesAddressesStayStableAsMoreAreRegistered) {
  Registry registry;
  GaugeFamily& family = registry.AddGauge("test_gauge", "G.", {"k"});
  Gauge* first = &family.Get({"0"});
  for (int i = 1; i < 1000; ++i) family.Get({std::to_string(i)});
  EXPECT_EQ(first, &family.Get({"0"}));
}

TEST(RegistryTest, RegistersRecordsAndRendersFromManyThreadsAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kSeries = 50;
  Registry registry;
  CounterFamily& family = registry.AddCounter("test_total", "T.", {"thread", "series"});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry, t] {
      CounterFamily& same = registry.AddCounter("test_total", "T.", {"thread", "series"});
      for (int i = 0; i < kSeries; ++i) {
        same.Get({"shared", "0"}).Inc();
        same.Get({std::to_string(t), std::to_string(i)}).Inc(2);
      }
    });
  }
  // Scrapes race with registration and recording; each must still be well-formed.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(registry.Render().back(), '\n');
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(family.Get({"shared", "0"}).Value(), kThreads * kSeries);
  EXPECT_EQ(family.Get({"3", "49"}).Value(), 2);
}

TEST(RegistryDeathTest, AbortsOnTypeMismatch) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  registry.AddCounter("test_total", "T.", {"route"});
  EXPECT_DEATH(registry.AddGauge("test_total", "T.", {"route"}),
               "metric registered twice with different definitions.*test_total");
}

TEST(RegistryDeathTest, AbortsOnLabelMismatch) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  registry.AddCounter("test_total", "T.", {"route"});
  EXPECT_DEATH(registry.AddCounter("test_total", "T.", {"route", "model"}),
               "registered twice");
}

TEST(RegistryDeathTest, AbortsOnWrongNumberOfLabelValues) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  CounterFamily& family = registry.AddCounter("test_total", "T.", {"route", "model"});
  EXPECT_DEATH(family.Get({"chat"}), "wrong number of metric label values");
}

TEST(RegistryDeathTest, AbortsOnInvalidNamesAndBuckets) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  EXPECT_DEATH(registry.AddCounter("1bad_total", "T.", {}), "invalid metric name");
  EXPECT_DEATH(registry.AddCounter("test_total", "T.", {"__reserved"}),
               "invalid metric label name");
  EXPECT_DEATH(registry.AddHistogram("test_seconds", "T.", {"le"}, {1}), "le");
  EXPECT_DEATH(registry.AddHistogram("test_seconds", "T.", {}, {2, 1}), "strictly increasing");
}

}  // namespace
}  // namespace llmesh::metrics

#include "common/metrics/latency_sketch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace llmesh::metrics {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

constexpr double kQuantiles[] = {0, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1};

// Absorbs the last-ulp rounding of log() and pow() at bucket boundaries.
constexpr double kSlack = 1e-9;

// The exact lower-rank q-quantile, as defined in latency_sketch.h. `sorted` is ascending.
double ExactQuantile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<size_t>(std::floor(q * static_cast<double>(sorted.size() - 1)));
  return sorted[rank];
}

// Checks the documented error bound of Quantile(q) against the exact value.
void ExpectWithinBound(const LatencySketch& sketch, const std::vector<double>& sorted, double q) {
  const double exact = ExactQuantile(sorted, q);
  const double estimate = sketch.Quantile(q);
  const double bound = exact > 1 ? sketch.relative_accuracy() * exact * (1 + kSlack) : 1.0;
  EXPECT_LE(std::abs(estimate - exact), bound)
      << "q=" << q << " exact=" << exact << " estimate=" << estimate;
  EXPECT_GE(estimate, sorted.front()) << "q=" << q;
  EXPECT_LE(estimate, sorted.back()) << "q=" << q;
}

// Recorded values as the sketch sees them: negatives become 0.
std::vector<double> Sorted(std::vector<double> values) {
  for (double& v : values) v = std::max(v, 0.0);
  std::sort(values.begin(), values.end());
  return values;
}

std::vector<double> Uniform(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(0, 10e6);
  std::vector<double> values(n);
  for (double& v : values) v = dist(rng);
  return values;
}

// Heavy tail: median 200 ms, p99.9 around 20 s.
std::vector<double> LogNormal(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(200e3), 1.5);
  std::vector<double> values(n);
  for (double& v : values) v = dist(rng);
  return values;
}

// A cache-hit mode around 5 ms and a slow-generation mode around 2 s.
std::vector<double> Bimodal(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution slow(0.3);
  std::normal_distribution<double> fast_mode(5e3, 500);
  std::normal_distribution<double> slow_mode(2e6, 3e5);
  std::vector<double> values(n);
  for (double& v : values) v = std::max(slow(rng) ? slow_mode(rng) : fast_mode(rng), 2.0);
  return values;
}

// Log-uniform over 1 µs .. 60 s, with a few sub-microsecond and zero values mixed in.
std::vector<double> LogUniformWithZeros(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(0, std::log(60e6));
  std::uniform_real_distribution<double> tiny(0, 1);
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = i % 50 == 0 ? tiny(rng) : std::exp(exponent(rng));
  for (size_t i = 0; i < n; i += 500) values[i] = 0;
  return values;
}

LatencySketch SketchOf(const std::vector<double>& values, double alpha = 0.01) {
  LatencySketch sketch(alpha);
  for (const double v : values) sketch.Add(v);
  return sketch;
}

struct Distribution {
  const char* name;
  std::vector<double> (*generate)(size_t, uint64_t);
};

constexpr Distribution kDistributions[] = {
    {"uniform", Uniform},
    {"lognormal", LogNormal},
    {"bimodal", Bimodal},
    {"loguniform_with_zeros", LogUniformWithZeros},
};

TEST(LatencySketchTest, QuantilesStayWithinRelativeErrorOnRandomData) {
  for (const Distribution& distribution : kDistributions) {
    for (const uint64_t seed : {1u, 2u, 3u}) {
      for (const double alpha : {0.01, 0.05}) {
        SCOPED_TRACE(testing::Message() << distribution.name << " seed=" << seed
                                        << " alpha=" << alpha);
        const std::vector<double> values = distribution.generate(50000, seed);
        const LatencySketch sketch = SketchOf(values, alpha);
        const std::vector<double> sorted = Sorted(values);
        ASSERT_EQ(sketch.count(), values.size());
        for (const double q : kQuantiles) ExpectWithinBound(sketch, sorted, q);
        // Every rank, not just the headline percentiles.
        for (int k = 0; k <= 1000; ++k) ExpectWithinBound(sketch, sorted, k / 1000.0);
        EXPECT_EQ(sketch.Quantile(0), sorted.front());
        EXPECT_EQ(sketch.Quantile(1), sorted.back());
      }
    }
  }
}

TEST(LatencySketchTest, ConstantDataReadsBackExactly) {
  const std::vector<double> values(10000, 123456.789);
  const LatencySketch sketch = SketchOf(values);
  for (const double q : kQuantiles) EXPECT_EQ(sketch.Quantile(q), 123456.789) << q;
  EXPECT_EQ(sketch.count(), 10000u);
  EXPECT_EQ(sketch.min(), 123456.789);
  EXPECT_EQ(sketch.max(), 123456.789);
  EXPECT_NEAR(sketch.sum(), 123456.789 * 10000, 1e-3);
}

TEST(LatencySketchTest, EveryValueIsWithinAlphaOfItsBucketRepresentative) {
  const LatencySketch sketch;
  const double gamma = 1.01 / 0.99;
  for (double v = 1.0001; v < 1e11; v *= 1.0037) {
    const int32_t index = sketch.BucketIndex(v);
    const double representative = 2 * std::pow(gamma, index) / (gamma + 1);
    ASSERT_LE(std::abs(representative - v), 0.01 * v * (1 + kSlack)) << v;
  }
  EXPECT_EQ(sketch.BucketIndex(1.0000001), 1);
  EXPECT_EQ(sketch.MaxBucketIndex(), 1382);
  EXPECT_EQ(sketch.BucketIndex(LatencySketch::kMaxTrackableMicros), sketch.MaxBucketIndex());
}

TEST(LatencySketchTest, SpecialValuesFollowTheDocumentedRules) {
  LatencySketch sketch;
  sketch.Add(0);
  sketch.Add(0.5);
  sketch.Add(1.0);
  sketch.Add(-250);  // Recorded as 0.
  sketch.Add(std::numeric_limits<double>::quiet_NaN());
  sketch.Add(std::numeric_limits<double>::infinity());
  sketch.Add(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(sketch.count(), 4u);
  EXPECT_EQ(sketch.zero_count(), 4u);
  EXPECT_EQ(sketch.sum(), 1.5);
  EXPECT_EQ(sketch.min(), 0);
  EXPECT_EQ(sketch.max(), 1.0);
  EXPECT_EQ(sketch.Quantile(0.5), 0);

  sketch.Add(1.0000001);
  EXPECT_EQ(sketch.BucketCount(1), 1u);
  sketch.Add(1e15);  // Beyond kMaxTrackableMicros: top bucket, but max() is exact.
  EXPECT_EQ(sketch.BucketCount(sketch.MaxBucketIndex()), 1u);
  EXPECT_EQ(sketch.max(), 1e15);
  EXPECT_EQ(sketch.Quantile(1), 1e15);
  EXPECT_EQ(sketch.count(), 6u);
}

TEST(LatencySketchTest, EmptySketchReadsAsZero) {
  const LatencySketch sketch;
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_EQ(sketch.Quantile(0.5), 0);
  EXPECT_EQ(sketch.min(), 0);
  EXPECT_EQ(sketch.max(), 0);
  EXPECT_EQ(sketch.sum(), 0);
}

TEST(LatencySketchTest, QuantileClampsOutOfRangeQ) {
  const LatencySketch sketch = SketchOf({10, 20, 30});
  EXPECT_EQ(sketch.Quantile(-1), 10);
  EXPECT_EQ(sketch.Quantile(std::numeric_limits<double>::quiet_NaN()), 10);
  EXPECT_EQ(sketch.Quantile(7), 30);
}

TEST(LatencySketchTest, AddWithCountEqualsRepeatedAdds) {
  LatencySketch repeated;
  LatencySketch counted;
  for (int i = 0; i < 7; ++i) repeated.Add(4321);
  counted.Add(4321, 7);
  counted.Add(99, 0);
  telemetry::v1::LatencySketch a;
  telemetry::v1::LatencySketch b;
  repeated.ToProto(&a);
  counted.ToProto(&b);
  EXPECT_TRUE(MessageDifferencer::Equals(a, b)) << a.DebugString() << b.DebugString();
}

TEST(LatencySketchTest, ConstructorClampsAccuracyIntoSupportedRange) {
  EXPECT_EQ(LatencySketch().relative_accuracy(), 0.01);
  EXPECT_EQ(LatencySketch(0).relative_accuracy(), LatencySketch::kMinRelativeAccuracy);
  EXPECT_EQ(LatencySketch(0.9).relative_accuracy(), LatencySketch::kMaxRelativeAccuracy);
  EXPECT_EQ(LatencySketch(std::numeric_limits<double>::quiet_NaN()).relative_accuracy(), 0.01);
  EXPECT_EQ(LatencySketch(LatencySketch::kMinRelativeAccuracy).MaxBucketIndex(), 13816);
}

// Everything but the sum, which is exact only up to the order of floating-point additions.
void ExpectSameBuckets(const LatencySketch& a, const LatencySketch& b) {
  telemetry::v1::LatencySketch pa;
  telemetry::v1::LatencySketch pb;
  a.ToProto(&pa);
  b.ToProto(&pb);
  pa.clear_sum_us();
  pb.clear_sum_us();
  EXPECT_TRUE(MessageDifferencer::Equals(pa, pb));
  for (int32_t index = 0; index <= a.MaxBucketIndex() + 1; ++index) {
    ASSERT_EQ(a.BucketCount(index), b.BucketCount(index)) << index;
  }
  EXPECT_NEAR(a.sum(), b.sum(), 1e-9 * a.sum());
  for (int k = 0; k <= 1000; ++k) ASSERT_EQ(a.Quantile(k / 1000.0), b.Quantile(k / 1000.0)) << k;
}

TEST(LatencySketchTest, MergeOfPartsEqualsSketchOfAll) {
  for (const Distribution& distribution : kDistributions) {
    SCOPED_TRACE(distribution.name);
    const std::vector<double> values = distribution.generate(40000, 7);
    const LatencySketch all = SketchOf(values);
    // Uneven parts, assigned pseudo-randomly, so the parts cover different bucket ranges.
    std::vector<LatencySketch> parts(5);
    std::mt19937_64 rng(11);
    for (const double v : values) parts[rng() % 3 == 0 ? 0 : 1 + rng() % 4].Add(v);
    LatencySketch merged;
    for (const LatencySketch& part : parts) ASSERT_TRUE(merged.Merge(part).ok());
    ExpectSameBuckets(merged, all);
  }
}

TEST(LatencySketchTest, MergeWorksAcrossClearedAndEmptySketches) {
  LatencySketch reused = SketchOf({1e7, 2e7});
  reused.Clear();
  reused.Add(50);
  LatencySketch target;
  ASSERT_TRUE(target.Merge(LatencySketch()).ok());
  ASSERT_TRUE(target.Merge(reused).ok());
  ExpectSameBuckets(target, SketchOf({50}));
}

TEST(LatencySketchTest, MergeIntoItselfDoublesEveryBucket) {
  const std::vector<double> values = LogNormal(1000, 5);
  LatencySketch sketch = SketchOf(values);
  ASSERT_TRUE(sketch.Merge(sketch).ok());
  std::vector<double> twice = values;
  twice.insert(twice.end(), values.begin(), values.end());
  ExpectSameBuckets(sketch, SketchOf(twice));
}

TEST(LatencySketchTest, MergeRejectsDifferentAccuracyAndLeavesSketchUnchanged) {
  LatencySketch sketch = SketchOf({100, 200});
  const absl::Status status = sketch.Merge(SketchOf({300}, 0.02));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("different relative accuracies: 0.01 and 0.02"));
  EXPECT_EQ(sketch.count(), 2u);
  EXPECT_EQ(sketch.max(), 200);
}

TEST(LatencySketchTest, ClearForgetsValues) {
  LatencySketch sketch = SketchOf({0.5, 10, 1e6});
  sketch.Clear();
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_EQ(sketch.zero_count(), 0u);
  EXPECT_EQ(sketch.BucketCount(sketch.BucketIndex(10)), 0u);
  telemetry::v1::LatencySketch proto;
  sketch.ToProto(&proto);
  EXPECT_EQ(proto.runs_size(), 0);
  sketch.Add(7);
  EXPECT_EQ(sketch.Quantile(0.5), 7);
}

TEST(LatencySketchTest, ProtoRoundTripIsLossless) {
  for (const Distribution& distribution : kDistributions) {
    SCOPED_TRACE(distribution.name);
    const LatencySketch sketch = SketchOf(distribution.generate(20000, 3));
    telemetry::v1::LatencySketch proto;
    sketch.ToProto(&proto);
    const absl::StatusOr<LatencySketch> decoded = LatencySketch::FromProto(proto);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    telemetry::v1::LatencySketch again;
    decoded->ToProto(&again);
    EXPECT_TRUE(MessageDifferencer::Equals(proto, again));
    EXPECT_EQ(decoded->sum(), sketch.sum());
    ExpectSameBuckets(*decoded, sketch);
  }
  telemetry::v1::LatencySketch empty;
  LatencySketch().ToProto(&empty);
  EXPECT_EQ(empty.relative_accuracy(), 0.01);
  ASSERT_TRUE(LatencySketch::FromProto(empty).ok());
  EXPECT_EQ(LatencySketch::FromProto(empty)->count(), 0u);
}

TEST(LatencySketchTest, ToProtoBridgesShortGapsAndSplitsLongOnes) {
  LatencySketch sketch;
  const int32_t base = sketch.BucketIndex(1000);
  const double gamma = 1.01 / 0.99;
  // Buckets base, base + 3 (gap of 2: bridged), base + 20 (gap of 16: new run).
  for (const int32_t index : {base, base + 3, base + 20}) {
    sketch.Add(std::pow(gamma, index - 0.5));
  }
  telemetry::v1::LatencySketch proto;
  sketch.ToProto(&proto);
  ASSERT_EQ(proto.runs_size(), 2);
  EXPECT_EQ(proto.runs(0).start(), base);
  EXPECT_THAT(proto.runs(0).counts(), testing::ElementsAre(1u, 0u, 0u, 1u));
  EXPECT_EQ(proto.runs(1).start(), base + 20);
  EXPECT_THAT(proto.runs(1).counts(), testing::ElementsAre(1u));
}

TEST(LatencySketchTest, HundredThousandValuesFromMicrosecondToMinuteEncodeInAFewKilobytes) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(0, std::log(60e6));
  LatencySketch sketch;
  for (int i = 0; i < 100000; ++i) sketch.Add(std::exp(exponent(rng)));
  telemetry::v1::LatencySketch proto;
  sketch.ToProto(&proto);
  const size_t bytes = proto.ByteSizeLong();
  RecordProperty("encoded_bytes", std::to_string(bytes));
  EXPECT_LT(bytes, 2048u);
  // A realistic 5-second report (2,000 requests of one model, heavy tail) stays under 1 KB.
  const LatencySketch typical = SketchOf(LogNormal(2000, 9));
  typical.ToProto(&proto);
  RecordProperty("typical_encoded_bytes", std::to_string(proto.ByteSizeLong()));
  EXPECT_LT(proto.ByteSizeLong(), 1024u);
}

// A valid proto to break one field at a time: 3 zero-bucket values and 2 in buckets 10..11.
telemetry::v1::LatencySketch ValidProto() {
  telemetry::v1::LatencySketch proto;
  proto.set_relative_accuracy(0.01);
  proto.set_zero_count(3);
  telemetry::v1::BucketRun* run = proto.add_runs();
  run->set_start(10);
  run->add_counts(1);
  run->add_counts(1);
  proto.set_count(5);
  proto.set_sum_us(3.0);
  proto.set_min_us(0.5);
  proto.set_max_us(1.25);
  return proto;
}

TEST(LatencySketchTest, FromProtoAcceptsTheValidBaseline) {
  ASSERT_TRUE(LatencySketch::FromProto(ValidProto()).ok());
}

TEST(LatencySketchTest, FromProtoRejectsMalformedReportsWithClearMessages) {
  struct Case {
    const char* name;
    void (*corrupt)(telemetry::v1::LatencySketch&);
    const char* message;
  };
  const Case cases[] = {
      {"zero accuracy", [](auto& p) { p.set_relative_accuracy(0); },
       "relative_accuracy 0 is outside the supported range [0.001, 0.5]"},
      {"accuracy of one", [](auto& p) { p.set_relative_accuracy(1); },
       "relative_accuracy 1 is outside"},
      {"NaN accuracy",
       [](auto& p) { p.set_relative_accuracy(std::numeric_limits<double>::quiet_NaN()); },
       "relative_accuracy nan is outside"},
      {"empty run", [](auto& p) { p.add_runs()->set_start(30); }, "runs[1] has no counts"},
      {"run below bucket 1", [](auto& p) { p.mutable_runs(0)->set_start(0); },
       "runs[0].start 0 is below the lowest bucket index 1"},
      {"negative run start", [](auto& p) { p.mutable_runs(0)->set_start(-5); },
       "runs[0].start -5 is below"},
      {"overlapping runs",
       [](auto& p) {
         auto* run = p.add_runs();
         run->set_start(11);
         run->add_counts(0);
       },
       "runs[1].start 11 does not follow the previous run, which ends at bucket 11"},
      {"decreasing runs",
       [](auto& p) {
         auto* run = p.add_runs();
         run->set_start(2);
         run->add_counts(0);
       },
       "runs[1].start 2 does not follow"},
      {"run past the top bucket",
       [](auto& p) { p.mutable_runs(0)->set_start(std::numeric_limits<int32_t>::max()); },
       "runs[0] ends at bucket 2147483648, above the highest index 1382 for relative_accuracy "
       "0.01"},
      {"too many buckets for the accuracy",
       [](auto& p) {
         auto* run = p.mutable_runs(0);
         run->set_start(1);
         while (run->counts_size() < 1383) run->add_counts(0);
       },
       "runs[0] ends at bucket 1383, above the highest index 1382"},
      {"count too high", [](auto& p) { p.set_count(6); },
       "count 6 does not equal zero_count plus bucket counts (5)"},
      {"count overflow",
       [](auto& p) { p.mutable_runs(0)->set_counts(0, std::numeric_limits<uint64_t>::max()); },
       "bucket counts overflow a 64-bit total"},
      {"zero count overflow",
       [](auto& p) { p.set_zero_count(std::numeric_limits<uint64_t>::max()); },
       "zero_count plus bucket counts overflows a 64-bit total"},
      {"NaN sum", [](auto& p) { p.set_sum_us(std::numeric_limits<double>::quiet_NaN()); },
       "sum_us nan, min_us 0.5, max_us 1.25 must be finite and non-negative"},
      {"negative min", [](auto& p) { p.set_min_us(-1); }, "must be finite and non-negative"},
      {"infinite max",
       [](auto& p) { p.set_max_us(std::numeric_limits<double>::infinity()); },
       "max_us inf must be finite"},
      {"min above max", [](auto& p) { p.set_min_us(2); }, "min_us 2 is greater than max_us 1.25"},
      {"min contradicts zero bucket", [](auto& p) { p.set_min_us(1.1); },
       "min_us 1.1 contradicts zero_count 3 (values <= 1 us)"},
      {"max contradicts buckets", [](auto& p) { p.set_max_us(1); },
       "max_us 1 contradicts 2 values in buckets above 1 us"},
      {"empty sketch with extremes",
       [](auto& p) {
         p.clear_runs();
         p.set_zero_count(0);
         p.set_count(0);
       },
       "an empty sketch must have sum_us, min_us and max_us 0, got 3, 0.5, 1.25"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    telemetry::v1::LatencySketch proto = ValidProto();
    c.corrupt(proto);
    const absl::StatusOr<LatencySketch> sketch = LatencySketch::FromProto(proto);
    ASSERT_FALSE(sketch.ok());
    EXPECT_EQ(sketch.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(sketch.status().message(), HasSubstr(c.message));
  }
}

TEST(LatencySketchTest, FromProtoAcceptsTheWidestAllowedRange) {
  telemetry::v1::LatencySketch proto;
  proto.set_relative_accuracy(0.01);
  auto* run = proto.add_runs();
  run->set_start(1);
  for (int i = 0; i < 1382; ++i) run->add_counts(1);
  proto.set_count(1382);
  proto.set_sum_us(1e9);
  proto.set_min_us(1.01);
  proto.set_max_us(1e12);
  const absl::StatusOr<LatencySketch> sketch = LatencySketch::FromProto(proto);
  ASSERT_TRUE(sketch.ok()) << sketch.status();
  EXPECT_EQ(sketch->BucketCount(1382), 1u);
  EXPECT_EQ(sketch->Quantile(1), 1e12);
}

}  // namespace
}  // namespace llmesh::metrics

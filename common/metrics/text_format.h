// Pieces of the Prometheus text exposition format 0.0.4, used by Registry::Render.
//
// Values are written as Go's ParseFloat reads them (what Prometheus and promtool use): the
// shortest decimal that round-trips ("0.005", "1e-05", "42"), or "+Inf", "-Inf", "NaN".
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace llmesh::metrics {

// The Content-Type of a rendered registry, for the admin /metrics handler.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

namespace text {

// Appends a sample value or an `le` bound.
void AppendValue(std::string* out, double v);

// Appends a label value without quotes, escaping `\` as `\\`, `"` as `\"` and newline as `\n`.
void AppendEscapedLabelValue(std::string* out, std::string_view value);

// Appends HELP text, escaping `\` as `\\` and newline as `\n`.
void AppendEscapedHelp(std::string* out, std::string_view help);

// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool IsValidMetricName(std::string_view name);

// Whether `name` is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool IsValidLabelName(std::string_view name);

}  // namespace text
}  // namespace llmesh::metrics

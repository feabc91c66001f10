#include "tests/fakes/fake_provider/fake_script.h"

#include "gtest/gtest.h"

namespace llmesh::fakes {
namespace {

TEST(ParseFakeScriptTest, ReadsEveryKey) {
  auto script = ParseFakeScript(
      R"({"status":503,"error_type":"server_error","error_code":"server_is_overloaded",)"
      R"("error_message":"busy","body":"<html>","content_type":"text/html",)"
      R"("headers":{"retry-after":"2"},"latency_ms":5,"first_chunk_ms":6,"chunks":7,)"
      R"("chunk_interval_ms":8,"hang":true,"close_before_response":true,)"
      R"("reset_after_events":2,"error_after_events":3,"malformed":true,)"
      R"("fail_probability":0.25,"count":4})");
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_EQ(script->status, 503);
  EXPECT_EQ(script->error_type, "server_error");
  EXPECT_EQ(script->error_code, "server_is_overloaded");
  EXPECT_EQ(script->error_message, "busy");
  EXPECT_TRUE(script->has_body);
  EXPECT_EQ(script->body, "<html>");
  EXPECT_EQ(script->content_type, "text/html");
  ASSERT_EQ(script->headers.size(), 1u);
  EXPECT_EQ(script->headers[0].first, "retry-after");
  EXPECT_EQ(script->headers[0].second, "2");
  EXPECT_EQ(script->latency_ms, 5);
  EXPECT_EQ(script->first_chunk_ms, 6);
  EXPECT_EQ(script->chunks, 7);
  EXPECT_EQ(script->chunk_interval_ms, 8);
  EXPECT_TRUE(script->hang);
  EXPECT_TRUE(script->close_before_response);
  EXPECT_EQ(script->reset_after_events, 2);
  EXPECT_EQ(script->error_after_events, 3);
  EXPECT_TRUE(script->malformed);
  EXPECT_DOUBLE_EQ(script->fail_probability, 0.25);
  EXPECT_EQ(script->count, 4);
}

TEST(ParseFakeScriptTest, EmptyObjectIsNormalService) {
  auto script = ParseFakeScript("{}");
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->chunks, 3);
  EXPECT_FALSE(script->HasFailure());
}

TEST(ParseFakeScriptTest, RejectsUnknownKeysAndBadValues) {
  EXPECT_EQ(ParseFakeScript(R"({"latency":5})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript(R"({"status":"503"})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript(R"({"status":700})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript(R"({"fail_probability":1.5})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript(R"({"reset_after_events":-2})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript("[1]").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript("{").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseFakeScriptTest, ToolArgumentsAreAnObjectOrAStringHoldingOne) {
  auto object = ParseFakeScript(
      R"({"tool_call":"get_weather","tool_arguments":{"city":"Paris", "unit":"celsius"}})");
  ASSERT_TRUE(object.ok()) << object.status();
  EXPECT_EQ(object->tool_call, "get_weather");
  EXPECT_EQ(object->tool_arguments, R"({"city":"Paris","unit":"celsius"})");
  auto text = ParseFakeScript(R"({"tool_call":"f","tool_arguments":"{\"a\": 1}"})");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->tool_arguments, R"({"a":1})");
  EXPECT_EQ(ParseFakeScript(R"({"tool_arguments":"[1]"})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFakeScript(R"({"tool_arguments":3})").status().code(),
            absl::StatusCode::kInvalidArgument);
  FakeScript script;
  EXPECT_TRUE(*ApplyFakeHeader("x-fake-tool-call", "g", script));
  EXPECT_TRUE(*ApplyFakeHeader("x-fake-tool-arguments", R"({"b": [true]})", script));
  EXPECT_EQ(script.tool_call, "g");
  EXPECT_EQ(script.tool_arguments, R"({"b":[true]})");
  EXPECT_EQ(ApplyFakeHeader("x-fake-tool-arguments", "nope", script).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ApplyFakeHeaderTest, OverridesScriptFields) {
  FakeScript script;
  EXPECT_TRUE(*ApplyFakeHeader("X-Fake-Status", "429", script));
  EXPECT_TRUE(*ApplyFakeHeader("x-fake-retry-after", "3", script));
  EXPECT_TRUE(*ApplyFakeHeader("x-fake-chunks", "0", script));
  EXPECT_TRUE(*ApplyFakeHeader("x-fake-hang", "true", script));
  EXPECT_TRUE(*ApplyFakeHeader("x-fake-fail-probability", "0.5", script));
  EXPECT_EQ(script.status, 429);
  ASSERT_EQ(script.headers.size(), 1u);
  EXPECT_EQ(script.headers[0].first, "retry-after");
  EXPECT_EQ(script.headers[0].second, "3");
  EXPECT_EQ(script.chunks, 0);
  EXPECT_TRUE(script.hang);
  EXPECT_DOUBLE_EQ(script.fail_probability, 0.5);
}

TEST(ApplyFakeHeaderTest, IgnoresOtherHeadersAndRejectsBadValues) {
  FakeScript script;
  EXPECT_FALSE(*ApplyFakeHeader("content-type", "application/json", script));
  EXPECT_FALSE(*ApplyFakeHeader("x-fake-unknown", "1", script));
  EXPECT_EQ(ApplyFakeHeader("x-fake-status", "abc", script).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyFakeHeader("x-fake-hang", "maybe", script).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmesh::fakes

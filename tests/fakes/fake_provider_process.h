// A real llmesh-fake-provider process on a loopback port chosen by the kernel, scripted and
// inspected over its /_fake endpoints (tests/fakes/fake_provider/README.md).
//
// Threading: one test thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "tests/fakes/process_harness.h"

namespace llmesh::testing {

struct FakeProviderProcess {
  // Starts one fake provider named `name` speaking `flavor`'s API (openai, anthropic or
  // gemini); its only model is "fake-model". Waits for its listener; a failure fails the test
  // and leaves port 0.
  static std::unique_ptr<FakeProviderProcess> Start(std::string_view name,
                                                    std::string_view flavor = "openai");

  std::string name;
  std::string flavor;  // the API it speaks: openai, anthropic or gemini
  uint16_t port = 0;
  std::unique_ptr<ChildProcess> process;

  // The base_url a config gives it (the API's version prefix included, as for the real one).
  std::string BaseUrl() const {
    return "http://127.0.0.1:" + std::to_string(port) + (flavor == "gemini" ? "/v1beta" : "/v1");
  }
  // The provider kind that speaks its API.
  std::string Kind() const { return flavor; }
  // POST /_fake/script; fails the test unless it is accepted.
  void Script(std::string_view json) const;
  void Reset() const;
  boost::json::object Stats() const;
  uint64_t Requests() const;
};

}  // namespace llmesh::testing

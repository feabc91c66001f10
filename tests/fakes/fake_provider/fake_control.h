// The fake provider's control endpoints, the same for every flavor: POST /_fake/script,
// POST /_fake/reset, GET /_fake/stats. Errors use the OpenAI error shape whatever the flavor
// (they are the fake's own API, not the emulated provider's). Control requests are never
// counted.
//
// Threading: runs on the request's worker; FakeState is safe across workers.
#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_state.h"

namespace llmesh::fakes {

// Answers the control request `request` for `path` (starts with "/_fake/"); an unknown one is
// a 404.
asio::awaitable<void> ServeControl(FakeState& state, std::string_view path,
                                   const http::Request& request, http::ResponseWriter& writer);

}  // namespace llmesh::fakes

// The upstream layer: HTTP/1.1 to LLM providers over TCP or TLS, with a keep-alive connection
// pool per worker thread and endpoint.
//
// Bottom of the request path: Listener -> Codec -> Router -> FailoverExecutor -> ProviderAdapter
// -> UpstreamPool. The failover layer turns a provider's base URL into an Endpoint once per
// config (ParseBaseUrl), then per attempt calls UpstreamPool::Send and reads the response through
// the returned Exchange. Threading: one UpstreamPool per worker, used only on that worker's
// io_context; nothing here takes a lock. Endpoint values may cross threads freely.
//
// Status contract (the failover layer decides on the code, never on the message):
//   UNAVAILABLE        could not connect: DNS, refused, TLS handshake or certificate failure
//   ABORTED            connection lost mid-exchange (reset, EOF before the response completed)
//   DEADLINE_EXCEEDED  a connect, write or read deadline passed
//   INTERNAL           protocol violation (unparseable HTTP)
//   RESOURCE_EXHAUSTED body over the caller's maximum (Exchange::ReadAll)
//   CANCELLED          the awaiting coroutine was cancelled; the connection is closed
#pragma once

#include "proxy/upstream/endpoint.h"  // IWYU pragma: export
#include "proxy/upstream/exchange.h"  // IWYU pragma: export
#include "proxy/upstream/pool.h"      // IWYU pragma: export

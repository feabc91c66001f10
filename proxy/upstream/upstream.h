// The upstream layer: HTTP/1.1 and HTTP/2 to LLM providers over TCP or TLS, with per-worker
// connection pools (keep-alive HTTP/1.1 connections; multiplexed h2 connections chosen by ALPN
// or prior knowledge, see pool.h).
//
// Bottom of the request path: Listener -> Codec -> Router -> FailoverExecutor -> ProviderAdapter
// -> UpstreamPool. The failover layer turns a provider's base URL into an Endpoint once per
// config (ParseBaseUrl, plus the provider's Http2Mode), then per attempt calls UpstreamPool::Send
// and reads the response through the returned Exchange, whichever protocol carries it.
// Threading: one UpstreamPool per worker, used only on that worker's io_context; nothing here
// takes a lock. Endpoint values may cross threads freely.
//
// Status contract (the failover layer decides on the code, never on the message):
//   UNAVAILABLE        could not connect: DNS, refused, TLS handshake or certificate failure; or
//                      an h2 stream the upstream refused or left unprocessed (REFUSED_STREAM,
//                      above a GOAWAY's last stream id): safe to send elsewhere
//   ABORTED            connection lost mid-exchange (reset, EOF before the response completed),
//                      or the h2 stream was reset by the upstream
//   DEADLINE_EXCEEDED  a connect, write or read deadline passed
//   INTERNAL           protocol violation (unparseable HTTP)
//   RESOURCE_EXHAUSTED body over the caller's maximum (Exchange::ReadAll)
//   CANCELLED          the awaiting coroutine was cancelled; the exchange is abandoned (HTTP/1.1:
//                      the connection is closed; h2: the stream is reset)
#pragma once

#include "proxy/upstream/endpoint.h"  // IWYU pragma: export
#include "proxy/upstream/exchange.h"  // IWYU pragma: export
#include "proxy/upstream/pool.h"      // IWYU pragma: export

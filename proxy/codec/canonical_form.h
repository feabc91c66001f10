// Gives a client request its canonical form (proxy/provider/canonical.h) when its route has a
// target that speaks another API than the client.
//
// Request path: the codec calls it once per request, after routing and before the executor;
// every translating attempt then encodes from the same canonical request. Pure; thread-safe.
#pragma once

#include "proxy/provider/provider.h"

namespace llmesh::codec {

// Builds `request.body` (LoadJsonTree), then fills `request.chat` or `request.embeddings` from it
// by the client's format. When the request cannot be expressed canonically (a feature only its
// own API has, or a shape the parser refuses) it sets `request.untranslatable` to why instead:
// targets of the client's own format still serve it, translating targets are skipped with that
// reason.
void AddCanonicalForm(provider::ClientRequest& request);

}  // namespace llmesh::codec

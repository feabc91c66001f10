// Gives back the memory llmesh-proxy needed only to start.
//
// Loading and compiling the config (YAML, JSON, protobuf descriptors and reflection), OpenSSL's
// initialisation and the listeners' set-up run code and read tables that serving requests never
// touches again, yet their pages stay in the resident set, as does what the allocator freed
// along the way. A sidecar runs beside every application pod, so that start-up residue is paid
// once per pod. Not on the request path: main.cc calls this once the listeners are serving.
//
// Threading: any thread, while workers serve; it changes no state the workers read.
#pragma once

#include <cstddef>

namespace llmesh {

struct StartupMemoryReleased {
  size_t code_bytes = 0;       // read-only pages of the executable dropped from the resident set
  size_t allocator_bytes = 0;  // free allocator memory returned to the kernel
};

// Drops the executable's code and read-only data pages from this process's page tables
// (madvise MADV_DONTNEED on its read-only PT_LOAD segments; writable and RELRO segments are
// left alone, so nothing it wrote is lost): the page cache still holds them, and the pages
// requests use fault back in at the cost of a minor fault each, leaving only the working set
// resident. Then returns the allocator's free page runs to the kernel (tcmalloc builds).
// Best effort: a step the kernel refuses is skipped.
StartupMemoryReleased ReleaseStartupMemory();

}  // namespace llmesh

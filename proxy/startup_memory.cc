#include "proxy/startup_memory.h"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#ifdef LLMESH_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

namespace llmesh {
namespace {

// The first object dl_iterate_phdr reports is the executable itself. Only its segments are
// dropped: the kernel refuses writes to a running executable (ETXTBSY), so a page that faults
// back in is the page that was there, which a shared library replaced on disk cannot promise.
int DropReadOnlySegments(dl_phdr_info* info, size_t, void* data) {
  auto* dropped = static_cast<size_t*>(data);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    // Writable segments hold data and relocated pointers (RELRO included) that exist only in
    // this process's memory.
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) != 0) continue;
    // Only whole pages inside the segment, so that a page shared with a neighbour is kept.
    const uintptr_t start = (info->dlpi_addr + segment.p_vaddr + page - 1) & ~(page - 1);
    const uintptr_t end = (info->dlpi_addr + segment.p_vaddr + segment.p_filesz) & ~(page - 1);
    if (end <= start) continue;
    if (madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) *dropped += end - start;
  }
  return 1;  // the executable only
}

}  // namespace

StartupMemoryReleased ReleaseStartupMemory() {
  StartupMemoryReleased released;
  dl_iterate_phdr(DropReadOnlySegments, &released.code_bytes);
#ifdef LLMESH_TCMALLOC
  size_t before = 0;
  size_t after = 0;
  MallocExtension* allocator = MallocExtension::instance();
  allocator->GetNumericProperty("tcmalloc.pageheap_unmapped_bytes", &before);
  allocator->ReleaseFreeMemory();
  allocator->GetNumericProperty("tcmalloc.pageheap_unmapped_bytes", &after);
  released.allocator_bytes = after > before ? after - before : 0;
#endif
  return released;
}

}  // namespace llmesh

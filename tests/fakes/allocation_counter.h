// Counts heap allocations made between StartCountingAllocations and StopCountingAllocations, for
// tests that show a hot path does not allocate. allocation_counter.cc replaces the global
// operator new and delete, so it is added to the SOURCES of the test binary that uses it (the
// replacement applies to that whole program).
//
// Threading: allocations on every thread are counted while counting is on.
#pragma once

namespace llmesh::testing {

// Resets the count and starts counting.
void StartCountingAllocations();
// Stops counting and returns the allocations since StartCountingAllocations.
int StopCountingAllocations();

}  // namespace llmesh::testing

// Anchor of the shared precompiled header (llmesh_pch in the top-level CMakeLists.txt): the
// header is built with this target's flags and reused by every other target.

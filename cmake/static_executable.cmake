# llmesh_static_executable: a production binary linked against the static archives of its
# third-party libraries (llmesh-proxy). Included by the top-level CMakeLists.txt, which calls
# llmesh_apply_static_links() once every target exists.

# The sidecar runs beside every application pod, so its resident memory is multiplied by the
# pod count. Linked against shared objects, llmesh-proxy had libprotobuf, libgrpc, libcrypto and
# libstdc++ resident in large part (their symbol tables and relocations are read at start-up,
# and sparse use of their code faults in whole neighbourhoods): ~5 MiB of its ~19 MiB idle.
# Linked against their static archives (PIC on Debian) it carries only the objects it
# references, and packed relative relocations (DT_RELR, glibc 2.36) replace a 0.95 MB
# .rela.dyn that start-up read whole. glibc stays dynamic: static glibc cannot load the NSS
# modules getaddrinfo needs. Sanitizer builds keep shared libraries.
if(LLMESH_SANITIZE)
  set(LLMESH_STATIC_PROXY OFF)
else()
  option(LLMESH_STATIC_PROXY "Link llmesh-proxy with static archives of its third-party libraries" ON)
endif()
include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" LLMESH_HAVE_RELR)

# llmesh_static_executable(name SOURCES src... LIBS lib...): like llmesh_executable plus
# target_link_libraries(name PRIVATE lib...), but the libraries and everything they depend on
# are linked from static archives where the system has one (see LLMESH_STATIC_PROXY); ordinary
# linking when that is off. The link is resolved by llmesh_apply_static_links at the end of
# this file, once every target it may reach exists.
function(llmesh_static_executable name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LIBS")
  if(NOT LLMESH_STATIC_PROXY)
    llmesh_executable(${name} ${arg_SOURCES})
    target_link_libraries(${name} PRIVATE ${arg_LIBS})
    return()
  endif()
  # The sources compile as an object library that links the libraries normally, for their
  # include directories and definitions; the executable itself links only archives.
  add_library(${name}_objects OBJECT ${arg_SOURCES})
  llmesh_target_defaults(${name}_objects)
  target_link_libraries(${name}_objects PRIVATE ${arg_LIBS})
  add_executable(${name} $<TARGET_OBJECTS:${name}_objects>)
  target_link_options(${name} PRIVATE -static-libstdc++ -static-libgcc)
  if(LLMESH_HAVE_RELR)
    target_link_options(${name} PRIVATE -Wl,-z,pack-relative-relocs)
  endif()
  set_property(GLOBAL APPEND PROPERTY LLMESH_STATIC_EXECUTABLES ${name})
  set_property(TARGET ${name} PROPERTY LLMESH_STATIC_LIBS ${arg_LIBS} ${LLMESH_TCMALLOC})
endfunction()

# glibc's libraries, which stay shared.
set(LLMESH_GLIBC_LIBS c m dl rt pthread atomic)

# Appends to the global LLMESH_STATIC_CLOSURE the link items for `item` and what it depends
# on: our libraries as their archive, imported ones as the static archive beside their shared
# object when there is one, glibc by name.
function(llmesh_static_closure item)
  while(item MATCHES "^\\$<LINK_ONLY:(.+)>$")
    set(item "${CMAKE_MATCH_1}")
  endwhile()
  # Abseil's link interface names Darwin-only frameworks.
  if(item MATCHES "^\\$<\\$<PLATFORM_ID:([A-Za-z]+)>:(.*)>$")
    if(NOT CMAKE_MATCH_1 STREQUAL CMAKE_SYSTEM_NAME OR CMAKE_MATCH_2 STREQUAL "")
      return()
    endif()
    set(item "${CMAKE_MATCH_2}")
  endif()
  if(item MATCHES "\\$<")
    message(FATAL_ERROR "llmesh_static_executable: cannot resolve the link item ${item}")
  endif()
  get_property(seen GLOBAL PROPERTY LLMESH_STATIC_SEEN)
  if(item IN_LIST seen)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY LLMESH_STATIC_SEEN "${item}")
  set(deps "")
  set(link "")
  if(TARGET ${item})
    get_target_property(aliased ${item} ALIASED_TARGET)
    if(aliased)
      llmesh_static_closure(${aliased})
      return()
    endif()
    get_target_property(type ${item} TYPE)
    get_target_property(imported ${item} IMPORTED)
    get_target_property(deps ${item} INTERFACE_LINK_LIBRARIES)
    if(NOT imported AND type STREQUAL "STATIC_LIBRARY")
      set(link "$<TARGET_FILE:${item}>")
    elseif(imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
      # The release location first, then the configuration-less one, then any the target has.
      get_target_property(configs ${item} IMPORTED_CONFIGURATIONS)
      list(TRANSFORM configs PREPEND "_")
      foreach(suffix IN ITEMS _RELEASE _NONE _NOCONFIG "" ${configs})
        get_target_property(location ${item} IMPORTED_LOCATION${suffix})
        if(location)
          break()
        endif()
      endforeach()
      set(link "${location}")
    elseif(NOT type STREQUAL "INTERFACE_LIBRARY")
      message(FATAL_ERROR "llmesh_static_executable: ${item} is a ${type}")
    endif()
  else()
    set(link "${item}")
  endif()
  # A shared object, or a -l name, becomes the archive beside it.
  if(link MATCHES "^(.*/lib[^/]+)\\.so(\\.[0-9.]+)?$")
    if(EXISTS "${CMAKE_MATCH_1}.a")
      set(link "${CMAKE_MATCH_1}.a")
    endif()
  elseif(link MATCHES "^(-l)?([A-Za-z0-9_+]+)$")
    set(name "${CMAKE_MATCH_2}")
    if(NOT name IN_LIST LLMESH_GLIBC_LIBS)
      foreach(dir IN LISTS CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
        if(EXISTS "${dir}/lib${name}.a")
          set(link "${dir}/lib${name}.a")
          break()
        endif()
      endforeach()
    endif()
  endif()
  if(link)
    set_property(GLOBAL APPEND PROPERTY LLMESH_STATIC_CLOSURE "${link}")
  endif()
  if(deps)
    foreach(dep IN LISTS deps)
      llmesh_static_closure(${dep})
    endforeach()
  endif()
endfunction()

# Links each llmesh_static_executable with its closure, as one group so that the order of the
# archives does not matter.
function(llmesh_apply_static_links)
  get_property(executables GLOBAL PROPERTY LLMESH_STATIC_EXECUTABLES)
  foreach(name IN LISTS executables)
    set_property(GLOBAL PROPERTY LLMESH_STATIC_SEEN "")
    set_property(GLOBAL PROPERTY LLMESH_STATIC_CLOSURE "")
    get_target_property(libs ${name} LLMESH_STATIC_LIBS)
    foreach(lib IN LISTS libs)
      llmesh_static_closure(${lib})
      if(TARGET ${lib})
        add_dependencies(${name} ${lib})
      endif()
    endforeach()
    get_property(closure GLOBAL PROPERTY LLMESH_STATIC_CLOSURE)
    # Our archives depend on each other too: the build must finish all of them first.
    foreach(item IN LISTS closure)
      if(item MATCHES "^\\$<TARGET_FILE:(.+)>$")
        add_dependencies(${name} ${CMAKE_MATCH_1})
      endif()
    endforeach()
    target_link_libraries(${name} PRIVATE -Wl,--start-group ${closure} -Wl,--end-group)
  endforeach()
endfunction()

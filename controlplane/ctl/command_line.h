// llmeshctl's command line: turns argv into an Invocation (which admin call to make, with
// which arguments) and holds the usage text and the exit codes.
//
//   llmeshctl [--server HOST:PORT] COMMAND [ARGS] [FLAGS]
//
// Not on any request path (operator CLI). Threading: pure functions, no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace llmesh::control::ctl {

inline constexpr std::string_view kDefaultServer = "127.0.0.1:15010";
inline constexpr std::string_view kTokenEnv = "LLMESH_ADMIN_TOKEN";

// The process exit codes, also listed in the usage text.
enum ExitCode : int {
  kExitOk = 0,
  // The request was refused: by the server (INVALID_ARGUMENT, ABORTED, NOT_FOUND,
  // FAILED_PRECONDITION, ...) or because FILE could not be read or parsed.
  kExitRefused = 1,
  // The command line is wrong; the usage text was printed.
  kExitUsage = 2,
  // The server could not be used: UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED,
  // PERMISSION_DENIED.
  kExitUnreachable = 3,
};

// The exit code for a failed call with `code` (never kExitOk, never kExitUsage).
ExitCode ExitCodeFor(absl::StatusCode code);

enum class Command {
  kHelp,
  kRoutesList,
  kRoutesGet,
  kRoutesApply,
  kRoutesDelete,
  kProvidersList,
  kProvidersGet,
  kProvidersApply,
  kProvidersDelete,
  kSidecars,
  kHealth,
  kWeightsList,
  kWeightsOverride,
  kWeightsDrain,
  kWeightsClear,
};

struct Invocation {
  Command command = Command::kHelp;
  std::string server = std::string(kDefaultServer);
  // Positional arguments after the command words: NAME; [ROUTE]; ROUTE PROVIDER MODEL.
  std::string name;
  std::string provider;
  std::string model;
  // `weights override`: basis points of the tier, 1 to 10000 (the server checks the range).
  uint32_t weight = 0;
  // `apply -f FILE`.
  std::string file;
  // `apply`, `delete`: validate only, store nothing.
  bool dry_run = false;
  // `apply` (a file with exactly one object), `delete`: make the write conditional.
  std::string etag;
  // `weights override|drain`: required.
  std::optional<absl::Duration> ttl;
  // `weights override|drain`: optional free text kept with the override.
  std::string comment;
};

// Parses argv[1..]. Global and command flags may appear anywhere; `--flag=value` and
// `--flag value` are both accepted. INVALID_ARGUMENT names the problem (unknown command,
// missing or extra argument, a flag the command does not take, a bad duration or weight).
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args);

// The --help text: usage, commands, flags, output formats and exit codes.
std::string_view UsageText();

}  // namespace llmesh::control::ctl

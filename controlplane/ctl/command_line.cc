#include "controlplane/ctl/command_line.h"

#include <cstddef>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/config/scalar.h"
#include "common/status_macros.h"

namespace llmesh::control::ctl {
namespace {

constexpr std::string_view kUsage =
    R"(usage: llmeshctl [--server HOST:PORT] COMMAND [ARGS] [FLAGS]

Admin CLI of llmesh-control (llmesh.admin.v1.AdminService over gRPC).
  --server HOST:PORT   the control plane's gRPC address (default 127.0.0.1:15010)
  The bearer token is read from LLMESH_ADMIN_TOKEN. Every call has a 10 s deadline.

Commands:
  routes list                          every route, in match order (table)
  routes get NAME                      one route, with its etag (JSON)
  routes apply -f FILE [--dry-run] [--etag ETAG]
                                       create or replace the routes listed in FILE
  routes delete NAME [--dry-run] [--etag ETAG]
  providers list | get NAME | apply -f FILE [--dry-run] [--etag ETAG] | delete NAME [...]
                                       the same for providers
  sidecars                             connected (and recently seen) sidecars (table)
  health [ROUTE]                       cluster-wide health and weights of route targets (table)
  weights list [ROUTE]                 active weight overrides (table)
  weights override ROUTE PROVIDER MODEL WEIGHT --ttl DURATION [--comment TEXT]
                                       pin a target to WEIGHT basis points (1-10000) of its tier
  weights drain ROUTE PROVIDER MODEL --ttl DURATION [--comment TEXT]
                                       send a target no traffic while its tier has another
  weights clear ROUTE PROVIDER MODEL   remove an override before it expires

FILE has the config file's shape (as for llmesh-control --bootstrap): `routes apply` applies
its `routes:` list and `providers apply` its `providers:` list, in file order, one call per
object; the other list is skipped with a note, other top-level keys are ignored. The first
refusal stops the rest (the objects before it stay applied). --dry-run validates each object on
the server (validate_only) and stores nothing. --etag needs exactly one object in FILE.
DURATION: 500ms, 30s, 15m, 2h, 1h30m; at most 720h (30 days).

Output: lists are tables with aligned columns; `get` prints the stored object as JSON (proto
field names); changes print one line per object. Errors go to stderr, one line per problem:
  error: <gRPC code>: <message>     e.g. error: INVALID_ARGUMENT: routes[1].targets[0].provider: ...

Exit codes:
  0  success
  1  refused: by the server (INVALID_ARGUMENT, ABORTED, NOT_FOUND, FAILED_PRECONDITION, ...),
     or FILE could not be read or parsed
  2  usage error (the problem is printed on stderr)
  3  server unusable: UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED
)";

struct Flags {
  std::vector<std::string> positional;
  std::optional<std::string> server, file, etag, ttl, comment;
  bool dry_run = false;
  bool help = false;
};

absl::StatusOr<Flags> SplitFlags(const std::vector<std::string>& args) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
      continue;
    }
    if (arg == "--dry-run") {
      flags.dry_run = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      flags.positional.push_back(std::move(arg));
      continue;
    }
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    std::optional<std::string>* slot = nullptr;
    if (arg == "--server") slot = &flags.server;
    else if (arg == "-f" || arg == "--file") slot = &flags.file;
    else if (arg == "--etag") slot = &flags.etag;
    else if (arg == "--ttl") slot = &flags.ttl;
    else if (arg == "--comment") slot = &flags.comment;
    if (slot == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    if (!value) {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = args[++i];
    }
    *slot = std::move(value);
  }
  return flags;
}

absl::Status WantArgs(const std::vector<std::string>& positional, size_t min, size_t max,
                      const std::string& command) {
  const size_t given = positional.size() - 2;
  if (given < min) return absl::InvalidArgumentError(absl::StrCat(command, ": missing argument"));
  if (given > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(command, ": unexpected argument \"", positional[2 + max], "\""));
  }
  return absl::OkStatus();
}

// Which flags each command accepts; anything else given is a usage error rather than being
// silently ignored (a forgotten --dry-run on `list` is harmless, one on `weights` is not).
struct Accepts {
  bool file = false, dry_run = false, etag = false, ttl = false, comment = false;
};

absl::Status CheckFlags(const Flags& flags, const Accepts& accepts, const std::string& command) {
  const auto refuse = [&](const char* flag) {
    return absl::InvalidArgumentError(absl::StrCat(command, " does not take ", flag));
  };
  if (flags.file && !accepts.file) return refuse("-f");
  if (flags.dry_run && !accepts.dry_run) return refuse("--dry-run");
  if (flags.etag && !accepts.etag) return refuse("--etag");
  if (flags.ttl && !accepts.ttl) return refuse("--ttl");
  if (flags.comment && !accepts.comment) return refuse("--comment");
  return absl::OkStatus();
}

absl::Status ParseObjectCommand(const Flags& flags, bool routes, Invocation& out) {
  const std::string resource = routes ? "routes" : "providers";
  if (flags.positional.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(resource, ": missing list|get|apply|delete"));
  }
  const std::string& verb = flags.positional[1];
  const std::string command = absl::StrCat(resource, " ", verb);
  if (verb == "list") {
    LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, 0, 0, command));
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {}, command));
    out.command = routes ? Command::kRoutesList : Command::kProvidersList;
  } else if (verb == "get") {
    LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, 1, 1, command));
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {}, command));
    out.command = routes ? Command::kRoutesGet : Command::kProvidersGet;
    out.name = flags.positional[2];
  } else if (verb == "apply") {
    LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, 0, 0, command));
    LLMESH_RETURN_IF_ERROR(
        CheckFlags(flags, {.file = true, .dry_run = true, .etag = true}, command));
    if (!flags.file || flags.file->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(command, " needs -f FILE"));
    }
    out.command = routes ? Command::kRoutesApply : Command::kProvidersApply;
    out.file = *flags.file;
    out.dry_run = flags.dry_run;
    out.etag = flags.etag.value_or("");
  } else if (verb == "delete") {
    LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, 1, 1, command));
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {.dry_run = true, .etag = true}, command));
    out.command = routes ? Command::kRoutesDelete : Command::kProvidersDelete;
    out.name = flags.positional[2];
    out.dry_run = flags.dry_run;
    out.etag = flags.etag.value_or("");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(resource, ": unknown subcommand \"", verb, "\" (list, get, apply, delete)"));
  }
  return absl::OkStatus();
}

absl::Status ParseWeightsCommand(const Flags& flags, Invocation& out) {
  if (flags.positional.size() < 2) {
    return absl::InvalidArgumentError("weights: missing list|override|drain|clear");
  }
  const std::string& verb = flags.positional[1];
  const std::string command = absl::StrCat("weights ", verb);
  const auto target = [&] {
    out.name = flags.positional[2];
    out.provider = flags.positional[3];
    out.model = flags.positional[4];
  };
  if (verb == "list") {
    LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, 0, 1, command));
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {}, command));
    out.command = Command::kWeightsList;
    if (flags.positional.size() == 3) out.name = flags.positional[2];
    return absl::OkStatus();
  }
  if (verb == "clear") {
    LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, 3, 3, command));
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {}, command));
    out.command = Command::kWeightsClear;
    target();
    return absl::OkStatus();
  }
  if (verb != "override" && verb != "drain") {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights: unknown subcommand \"", verb, "\" (list, override, drain, clear)"));
  }
  const bool drain = verb == "drain";
  const size_t count = drain ? 3 : 4;
  LLMESH_RETURN_IF_ERROR(WantArgs(flags.positional, count, count, command));
  LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {.ttl = true, .comment = true}, command));
  target();
  if (!drain && !absl::SimpleAtoi(flags.positional[5], &out.weight)) {
    return absl::InvalidArgumentError(absl::StrCat(
        command, ": WEIGHT must be basis points (1 to 10000), got \"", flags.positional[5], "\""));
  }
  if (!flags.ttl) return absl::InvalidArgumentError(absl::StrCat(command, " needs --ttl DURATION"));
  absl::StatusOr<absl::Duration> ttl = config::ParseConfigDuration(*flags.ttl);
  if (!ttl.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(command, ": --ttl \"", *flags.ttl, "\": ", ttl.status().message()));
  }
  out.ttl = *ttl;
  out.command = drain ? Command::kWeightsDrain : Command::kWeightsOverride;
  if (flags.comment) out.comment = *flags.comment;
  return absl::OkStatus();
}

}  // namespace

ExitCode ExitCodeFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitUnreachable;
    default:
      return kExitRefused;
  }
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args) {
  LLMESH_ASSIGN_OR_RETURN(Flags flags, SplitFlags(args));
  Invocation out;
  if (flags.server) {
    if (flags.server->empty()) return absl::InvalidArgumentError("--server needs HOST:PORT");
    out.server = *flags.server;
  }
  if (flags.help) {
    out.command = Command::kHelp;
    return out;
  }
  if (flags.positional.empty()) return absl::InvalidArgumentError("missing command");
  const std::string& resource = flags.positional[0];
  if (resource == "routes" || resource == "providers") {
    LLMESH_RETURN_IF_ERROR(ParseObjectCommand(flags, resource == "routes", out));
  } else if (resource == "weights") {
    LLMESH_RETURN_IF_ERROR(ParseWeightsCommand(flags, out));
  } else if (resource == "sidecars") {
    if (flags.positional.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("sidecars: unexpected argument \"", flags.positional[1], "\""));
    }
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {}, "sidecars"));
    out.command = Command::kSidecars;
  } else if (resource == "health") {
    if (flags.positional.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("health: unexpected argument \"", flags.positional[2], "\""));
    }
    LLMESH_RETURN_IF_ERROR(CheckFlags(flags, {}, "health"));
    out.command = Command::kHealth;
    if (flags.positional.size() == 2) out.name = flags.positional[1];
  } else if (resource == "help") {
    out.command = Command::kHelp;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown command \"", resource, "\""));
  }
  return out;
}

std::string_view UsageText() { return kUsage; }

}  // namespace llmesh::control::ctl

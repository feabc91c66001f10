// A thin RAII layer over the SQLite C API for the control-plane store: a connection, prepared
// statements and transactions, with SQLite result codes turned into absl::Status.
//
// Below store.h; nothing outside controlplane/store uses it. Threading: a Database and its
// Statements belong to one thread at a time (connections are opened with SQLITE_OPEN_NOMUTEX);
// several Database objects on the same file, in one process or several, are safe: SQLite's file
// locks serialise writers and the busy timeout makes a writer wait instead of failing at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace llmesh::control::sqlite {

// Maps a SQLite (extended) result code to a status: busy, locked, I/O, full, read-only and
// cannot-open are UNAVAILABLE (the store cannot be written now; nothing changed), corrupt and
// not-a-database are DATA_LOSS, anything else INTERNAL. The message is "what: detail".
absl::Status ErrorStatus(int code, std::string_view what, std::string_view detail);

class Statement;

// One open connection. Move-only; closes the connection when destroyed (statements must be
// destroyed first).
class Database {
 public:
  // Opens (creating when missing) the database file at `path`. Errors: UNAVAILABLE when the file
  // cannot be opened or created, naming the path.
  static absl::StatusOr<Database> Open(const std::string& path, absl::Duration busy_timeout);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more SQL statements that return no rows needed by the caller.
  absl::Status Exec(std::string_view sql);
  // Compiles one statement. Errors: INTERNAL for SQL errors (a bug), UNAVAILABLE when busy.
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // The status for the connection's last error, for result code `code`.
  absl::Status LastError(int code, std::string_view what) const;

  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// A prepared statement. Binds are 1-based like SQLite's; a bind error is kept and returned by
// the next Step()/Run(), so binds chain: `stmt.Bind(1, a).Bind(2, b);
// LLMESH_RETURN_IF_ERROR(stmt.Run());`. Move-only; finalizes when destroyed. Column getters are
// valid after Step() returned true.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when the statement is done.
  absl::StatusOr<bool> Step();
  // Steps until done, for statements that return no rows.
  absl::Status Run();
  // Clears bindings and rewinds, so the statement can run again.
  void Reset();

  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc, int index);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  absl::Status bind_status_;
};

// A transaction that rolls back when destroyed without Commit(). Move-only.
class Transaction {
 public:
  enum class Mode {
    // Takes no lock until the first read; for consistent multi-statement reads.
    kRead,
    // Takes the write lock at once (BEGIN IMMEDIATE), so a writer waits on the busy timeout at
    // the start instead of failing half-way when another connection writes.
    kWrite,
  };
  static absl::StatusOr<Transaction> Begin(Database& db, Mode mode);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Commits. With synchronous=FULL the change is on disk when this returns OK. On error the
  // transaction is rolled back and nothing was changed.
  absl::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
};

}  // namespace llmesh::control::sqlite

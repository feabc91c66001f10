// Plain-text tables for llmeshctl's list output: a header row and data rows, every column
// padded to its widest cell and separated by two spaces, trailing spaces trimmed.
//
// Not on any request path (operator CLI). Threading: a Table is a plain value; use it from one
// thread at a time.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace llmesh::control::ctl {

class Table {
 public:
  // `header` fixes the number of columns; rows with fewer cells are padded with empty cells,
  // extra cells are kept (a wider row widens the table).
  explicit Table(std::vector<std::string> header);

  void AddRow(std::vector<std::string> cells);

  // Writes the header and every row, one line each, in insertion order.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

}  // namespace llmesh::control::ctl

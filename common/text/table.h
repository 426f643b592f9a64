#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ilchat::text {

using TableRow = std::vector<std::string>;

// Text columns, each padded to its widest cell, two spaces apart, one line per row after the
// header; `empty` (a line of its own) when there are no rows. The last column is not padded: it
// may hold anything, such as a room's title.
std::string aligned_table(const TableRow& header, const std::vector<TableRow>& rows, std::string_view empty);

}  // namespace ilchat::text

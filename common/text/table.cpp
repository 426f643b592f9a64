#include "common/text/table.h"

#include <algorithm>

namespace ilchat::text {

std::string aligned_table(const TableRow& header, const std::vector<TableRow>& rows, std::string_view empty) {
    if (rows.empty()) return std::string(empty) + "\n";
    std::vector<std::size_t> widths(header.size());
    auto measure = [&widths](const TableRow& row) {
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    };
    measure(header);
    std::ranges::for_each(rows, measure);
    std::string text;
    auto print = [&](const TableRow& row) {
        std::string line;
        for (std::size_t i = 0; i + 1 < row.size(); ++i) line += row[i] + std::string(widths[i] - row[i].size() + 2, ' ');
        line += row.back();
        text += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";  // an empty last cell leaves no blanks
    };
    print(header);
    std::ranges::for_each(rows, print);
    return text;
}

}  // namespace ilchat::text

#pragma once

#include <optional>
#include <string>

#include "common/db/connection.h"

namespace ilchat::test {

// A fresh database of this name with the ILIAS chat tables on the private test server, or
// nothing (with a warning) when the tests run without one. One per test case, as ctest -j runs
// test cases side by side.
std::optional<db::Connection> fresh_database(const std::string& database);

}  // namespace ilchat::test

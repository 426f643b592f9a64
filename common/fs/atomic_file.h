#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace ilchat::fs {

// Replaces `path` with `content` so that readers see the old file or the new one, never a
// torn one: a temporary file in the same folder, written with `mode`, fsync'd and renamed.
// Returns an empty string on success, otherwise what went wrong.
std::string write_file_atomically(const std::string& path, std::string_view content, mode_t mode);

bool file_exists(const std::string& path);

}  // namespace ilchat::fs

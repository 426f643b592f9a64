#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/fs/unique_fd.h"

namespace ilchat::store {

// An append-only file of lines that must survive a crash: the writes a database worker could not
// store yet. Appends are fsync'd before they return; lines are read back in order from a
// position kept in memory; once everything has been read back and stored, the file is emptied.
// A line cut short by a crash (no trailing newline) is dropped when the file is opened: its
// append never returned, so nothing was promised for it. Used by one worker thread only.
class SpoolFile {
public:
    // Opens or creates the file (mode 0600, folder created 0750); throws std::system_error.
    explicit SpoolFile(std::string path);

    // Appends complete lines (without newlines) and fsyncs; throws std::system_error (disk full)
    // with the file as it was before the call.
    void append(const std::vector<std::string>& lines);
    // Up to `max` lines from the read position on; the position moves only with `consumed`.
    std::vector<std::string> peek(std::size_t max);
    // The lines last peeked are done with.
    void consumed();
    // Everything read back: empty the file (and fsync) so it does not grow without end.
    void clear();

    // Lines appended and not yet consumed.
    std::size_t pending() const { return pending_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    fs::UniqueFd fd_;
    std::int64_t size_ = 0;        // bytes of complete lines in the file
    std::int64_t read_at_ = 0;     // start of the first line not consumed
    std::int64_t peeked_end_ = 0;  // end of the lines the last peek returned
    std::size_t peeked_ = 0;
    std::size_t pending_ = 0;
};

}  // namespace ilchat::store

// logs: the last lines of ilchatd's log file, filtered by level and time, and following it across
// logrotate as `tail -F` does.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/fs/unique_fd.h"
#include "ctl/commands.h"
#include "ctl/config_files.h"
#include "ctl/log_lines.h"

namespace ilchat::ctl {

namespace {

struct LogsOptions {
    std::size_t lines = 20;
    bool follow = false;
    std::string level;
    bool errors = false;
    std::string since;
    std::string server_cfg;
};

class ReadError : public std::runtime_error {
public:
    explicit ReadError(const std::string& path)
        : std::runtime_error("reading " + path + " failed: " + std::strerror(errno)) {}
};

class File {
public:
    File(const std::string& path, int fd) : path_(path), fd_(fd) {}

    int fd() const { return fd_.get(); }
    void replace(int fd) { fd_.reset(fd); }
    // Reads up to `size` bytes at `offset`; 0 at the end of the file. Throws ReadError.
    std::size_t read_at(char* into, std::size_t size, off_t offset) const {
        for (;;) {
            const auto n = ::pread(fd_.get(), into, size, offset);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) throw ReadError(path_);
        }
    }

private:
    std::string path_;
    fs::UniqueFd fd_;
};

constexpr std::size_t chunk_size = 64 * 1024;

// The end of the last whole line: a line still being written is shown once it is complete.
off_t complete_end(const File& file, off_t size) {
    std::vector<char> chunk(chunk_size);
    for (off_t pos = size; pos > 0;) {
        const auto n = static_cast<off_t>(std::min<off_t>(pos, chunk_size));
        file.read_at(chunk.data(), static_cast<std::size_t>(n), pos - n);
        for (off_t i = n; i-- > 0;)
            if (chunk[static_cast<std::size_t>(i)] == '\n') return pos - n + i + 1;
        pos -= n;
    }
    return 0;
}

// Calls `visit` with each line of the first `end` bytes of `file` (which end with a newline),
// the last line first, until it returns false. Reads backwards in chunks, so the tail of a large
// log costs no more than its last chunks.
void lines_backward(const File& file, off_t end, const std::function<bool(std::string_view)>& visit) {
    if (end == 0) return;
    off_t pos = end - 1;  // the last line's newline
    std::string carry;    // the end part of a line whose start is in an earlier chunk
    std::vector<char> chunk(chunk_size);
    for (;;) {
        const auto n = static_cast<off_t>(std::min<off_t>(pos, chunk_size));
        file.read_at(chunk.data(), static_cast<std::size_t>(n), pos - n);
        pos -= n;
        std::string text(chunk.data(), static_cast<std::size_t>(n));
        text += carry;
        std::size_t stop = text.size();
        for (auto newline = text.rfind('\n'); newline != std::string::npos;
             newline = newline == 0 ? std::string::npos : text.rfind('\n', newline - 1)) {
            if (!visit(std::string_view(text).substr(newline + 1, stop - newline - 1))) return;
            stop = newline;
        }
        carry = text.substr(0, stop);
        if (pos == 0) {
            visit(carry);
            return;
        }
    }
}

// The last `count` selected messages before `end`, oldest first. A message is its header line and
// the lines without a header after it.
std::vector<std::string> tail(const File& file, off_t end, std::size_t count, const LogSelection& selection) {
    std::vector<std::string> shown;  // last first
    std::vector<std::string> continuation;
    std::size_t messages = 0;
    if (count > 0)
        lines_backward(file, end, [&](std::string_view line) {
            auto header = parse_log_header(line);
            if (!header) {
                continuation.emplace_back(line);
                return true;
            }
            // Lines are written in time order: everything before this one is older still.
            if (selection.since && header->time < *selection.since) {
                continuation.clear();
                return false;
            }
            if (selection.accepts(*header)) {
                shown.insert(shown.end(), continuation.begin(), continuation.end());
                shown.emplace_back(line);
                ++messages;
            }
            continuation.clear();
            return messages < count;
        });
    // Lines before the file's first header have no level or time: only an unfiltered view shows them.
    if (!selection.filters() && messages < count) shown.insert(shown.end(), continuation.begin(), continuation.end());
    std::reverse(shown.begin(), shown.end());
    return shown;
}

// Prints what is appended to `path` until the process is stopped. A rename (logrotate's default)
// shows as another inode at the path: the old file is read to its end, then the new one from its
// start. A truncation (copytruncate) shows as a size below what was read: read again from 0.
int follow(const std::string& path, File& file, off_t offset, const LogSelection& selection) {
    bool showing = !selection.filters();  // whether the current message passed the selection
    std::string partial;
    auto print = [&](std::string_view line) {
        if (auto header = parse_log_header(line)) showing = selection.accepts(*header);
        if (showing) std::cout << line << '\n';
    };
    auto drain = [&] {
        std::vector<char> chunk(chunk_size);
        while (const std::size_t n = file.read_at(chunk.data(), chunk.size(), offset)) {
            offset += static_cast<off_t>(n);
            partial.append(chunk.data(), n);
            std::size_t start = 0;
            for (auto newline = partial.find('\n'); newline != std::string::npos; newline = partial.find('\n', start)) {
                print(std::string_view(partial).substr(start, newline - start));
                start = newline + 1;
            }
            partial.erase(0, start);
        }
        std::cout << std::flush;
    };
    for (;;) {
        drain();
        struct stat opened {}, named {};
        if (::fstat(file.fd(), &opened) != 0) throw ReadError(path);
        if (opened.st_size < offset) {
            std::cerr << "ilchatctl logs: " << path << " was truncated; reading it from the start\n";
            offset = 0;
            partial.clear();
            continue;
        }
        if (::stat(path.c_str(), &named) == 0 && (named.st_ino != opened.st_ino || named.st_dev != opened.st_dev)) {
            const int fresh = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fresh >= 0) {
                drain();  // what was written to the old file before it moved away
                if (!partial.empty()) print(partial);
                partial.clear();
                file.replace(fresh);
                offset = 0;
                std::cerr << "ilchatctl logs: " << path << " was replaced (log rotation); following the new file\n";
                continue;
            }
        }
        // Until the new file appears after a rename, the old one is still read.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

int run_logs(const LogsOptions& options, bool lines_given) {
    LogSelection selection;
    if (!options.level.empty()) selection.at_least = parse_level_name(options.level);
    if (!options.since.empty()) selection.since = parse_since(options.since, Clock::now());
    // --since alone means everything since then.
    const std::size_t count = selection.since && !lines_given ? SIZE_MAX : options.lines;

    const std::string server_cfg = find_server_cfg(options.server_cfg);
    if (server_cfg.empty()) {
        std::cerr << "ilchatctl logs: which server.cfg? Give --server-cfg FILE or set " << server_cfg_variable << " ("
                  << default_server_cfg << " is not there or not readable)\n";
        return exit_usage;
    }
    auto server = read_server_cfg(server_cfg, true);
    if (!server) return exit_problem;
    std::string path = server->log;
    if (options.errors && !server->error_log.empty()) {
        path = server->error_log;
    } else if (options.errors && !path.empty()) {
        std::cerr << "ilchatctl logs: " << server_cfg << " has no error_log; showing the ERROR lines of " << path
                  << '\n';
        selection.at_least = spdlog::level::err;
    }
    if (path.empty()) {
        std::cerr << "ilchatctl logs: " << server_cfg
                  << " names no log file, so ilchatd logs to standard error (under systemd: journalctl -u ilchatd)\n";
        return exit_problem;
    }

    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::cerr << "ilchatctl logs: cannot open " << path << ": " << std::strerror(errno) << '\n';
        return exit_problem;
    }
    File file(path, fd);
    try {
        struct stat info {};
        if (::fstat(fd, &info) != 0) throw ReadError(path);
        const off_t end = complete_end(file, info.st_size);
        for (const auto& line : tail(file, end, count, selection)) std::cout << line << '\n';
        std::cout << std::flush;
        if (options.follow) return follow(path, file, end, selection);
    } catch (const ReadError& e) {
        std::cerr << "ilchatctl logs: " << e.what() << '\n';
        return exit_problem;
    }
    return exit_ok;
}

}  // namespace

void add_logs_command(CLI::App& app, int& result) {
    auto options = std::make_shared<LogsOptions>();
    auto* cmd = app.add_subcommand("logs", "Show ilchatd's log file (the log key of server.cfg)");
    auto* lines = cmd->add_option("-n,--lines", options->lines, "how many lines to show from the end")
                      ->capture_default_str();
    cmd->add_flag("-f,--follow", options->follow, "keep printing new lines, across log rotation, until Ctrl-C");
    cmd->add_option("--level", options->level, "only this level and more severe: error, warn, info, debug, silly")
        ->check(readable_by(parse_level_name, "error, warn, info, debug or silly", "LEVEL"));
    cmd->add_flag("--errors", options->errors, "show the error_log of server.cfg instead");
    cmd->add_option("--since", options->since,
                    "only lines from then on: an ISO time (2026-11-26T12:00, local unless it has an offset) or "
                    "a span back from now (30s, 10m, 2h, 1d, 1w); without -n every such line")
        ->check(readable_by([](const std::string& text) { return parse_since(text, Clock::now()); },
                            "an ISO time such as 2026-11-26T12:00, or 10m, 2h, 1d", "TIME"));
    cmd->add_option("--server-cfg", options->server_cfg, server_cfg_help("server.cfg naming the log files"))
        ->check(CLI::ExistingFile);
    cmd->footer("Examples:\n"
                "  ilchatctl logs --server-cfg /etc/ilchatd/server.cfg -n 50\n"
                "  ilchatctl logs --server-cfg server.cfg -f --level warn\n"
                "  ilchatctl logs --server-cfg server.cfg --errors --since 2h\n"
                "  ilchatctl logs --server-cfg server.cfg --since 2026-11-26T08:00 --level info\n"
                "  ILCHATD_SERVER_CFG=/srv/ilias/chatroom/server.cfg ilchatctl logs -f\n"
                "Exit codes: 0 ok, 1 no log file or it cannot be read, 2 usage error or no server.cfg.");
    cmd->callback([options, lines, &result] { result = run_logs(*options, lines->count() > 0); });
}

}  // namespace ilchat::ctl

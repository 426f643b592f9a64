#include "daemon/store/spool_file.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace ilchat::store {

namespace {

// Records are small: the file is read in pieces of this size.
constexpr std::int64_t chunk = 1 << 20;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::system_error(errno, std::generic_category(), what + " " + path);
}

// Reads [from, to) of the file; throws on an I/O error.
std::string read_range(int fd, std::int64_t from, std::int64_t to, const std::string& path) {
    std::string bytes(static_cast<std::size_t>(to - from), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const auto n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(from + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot read", path);
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

}  // namespace

SpoolFile::SpoolFile(std::string path) : path_(std::move(path)) {
    const auto folder = std::filesystem::path(path_).parent_path();
    if (!folder.empty() && ::mkdir(folder.c_str(), 0750) != 0 && errno != EEXIST) fail("cannot create", folder);
    fd_.reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_) fail("cannot open", path_);

    // What a previous run left: count its lines; a torn last line never returned from append.
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) fail("cannot stat", path_);
    for (std::int64_t at = 0; at < st.st_size; at += chunk) {
        const std::string bytes = read_range(fd_.get(), at, std::min<std::int64_t>(st.st_size, at + chunk), path_);
        pending_ += static_cast<std::size_t>(std::count(bytes.begin(), bytes.end(), '\n'));
        if (auto last = bytes.rfind('\n'); last != std::string::npos) size_ = at + static_cast<std::int64_t>(last) + 1;
    }
    if (size_ != st.st_size) {
        spdlog::warn("Spool {}: dropping {} bytes of an append cut short by a crash", path_, st.st_size - size_);
        if (::ftruncate(fd_.get(), size_) != 0 || ::fsync(fd_.get()) != 0) fail("cannot truncate", path_);
    }
}

void SpoolFile::append(const std::vector<std::string>& lines) {
    std::string bytes;
    for (const auto& line : lines) {
        bytes += line;
        bytes += '\n';
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        const auto n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(size_ + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            // Leave no partial line behind: the caller keeps these lines and tries again.
            [[maybe_unused]] auto ignored = ::ftruncate(fd_.get(), size_);
            errno = error;
            fail("cannot append to", path_);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd_.get()) != 0) {
        const int error = errno;
        [[maybe_unused]] auto ignored = ::ftruncate(fd_.get(), size_);
        errno = error;
        fail("cannot sync", path_);
    }
    size_ += static_cast<std::int64_t>(bytes.size());
    pending_ += lines.size();
}

std::vector<std::string> SpoolFile::peek(std::size_t max) {
    std::vector<std::string> lines;
    std::string buffer;     // the file from read_at_ on, as far as loaded
    std::size_t taken = 0;  // bytes of buffer already returned as lines
    std::int64_t loaded_to = read_at_;
    while (lines.size() < max) {
        const auto newline = buffer.find('\n', taken);
        if (newline == std::string::npos) {
            if (loaded_to >= size_) break;
            const auto end = std::min(size_, loaded_to + chunk);
            buffer += read_range(fd_.get(), loaded_to, end, path_);
            loaded_to = end;
            continue;
        }
        lines.emplace_back(buffer, taken, newline - taken);
        taken = newline + 1;
    }
    peeked_end_ = read_at_ + static_cast<std::int64_t>(taken);
    peeked_ = lines.size();
    return lines;
}

void SpoolFile::consumed() {
    read_at_ = peeked_end_;
    pending_ -= peeked_;
    peeked_ = 0;
}

void SpoolFile::clear() {
    if (::ftruncate(fd_.get(), 0) != 0 || ::fsync(fd_.get()) != 0) fail("cannot empty", path_);
    size_ = read_at_ = peeked_end_ = 0;
    pending_ = peeked_ = 0;
}

}  // namespace ilchat::store

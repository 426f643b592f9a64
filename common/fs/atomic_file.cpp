#include "common/fs/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs/unique_fd.h"

namespace ilchat::fs {

namespace {

// Removes the temporary file unless the rename happened; its descriptor closes itself first.
struct TempFile {
    std::string path;
    bool keep = false;
    UniqueFd fd;
    ~TempFile() {
        fd.reset();
        if (!keep && !path.empty()) ::unlink(path.c_str());
    }
};

std::string failure(std::string_view what, const std::string& path) {
    return std::string(what) + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));

    TempFile tmp;
    tmp.path = path + ".tmpXXXXXX";
    tmp.fd.reset(::mkstemp(tmp.path.data()));
    if (!tmp.fd) {
        std::string error = failure("cannot create a file in", dir);
        tmp.path.clear();
        return error;
    }
    if (::fchmod(tmp.fd.get(), mode) != 0) return failure("cannot set the mode of", tmp.path);
    for (size_t done = 0; done < content.size();) {
        ssize_t n = ::write(tmp.fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure("cannot write", tmp.path);
        done += static_cast<size_t>(n);
    }
    if (::fsync(tmp.fd.get()) != 0) return failure("cannot flush", tmp.path);
    if (::rename(tmp.path.c_str(), path.c_str()) != 0) return failure("cannot rename to", path);
    tmp.keep = true;
    if (UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY)); directory) ::fsync(directory.get());
    return {};
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace ilchat::fs

#include "ctl/admin_client.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fs/unique_fd.h"

namespace ilchat::ctl {

namespace {

std::string who_may(const std::string& path) {
    return "permission denied on " + path +
           ": only root, the daemon's user and members of its admin_group may use the admin socket";
}

AdminAnswer parse_reply(const std::string& line, const std::string& path) {
    auto reply = admin::parse_reply(line);
    if (!reply)
        throw AdminError("unexpected answer on " + path + " (is it ilchatd's admin socket?): " + line.substr(0, 200));
    if (reply->result == admin::failed && reply->text == admin::refusal)
        throw AdminError(who_may(path) + " (ilchatd refused this user)");
    AdminAnswer answer{reply->result, std::move(reply->text)};
    answer.arguments.Parse(reply->arguments_json.c_str());  // JSON that admin::parse_reply wrote
    if (!answer.arguments.IsObject()) answer.arguments.SetObject();
    return answer;
}

}  // namespace

AdminAnswer ask_admin(const std::string& socket_path, std::string_view command, const admin::Arguments& arguments,
                      std::chrono::milliseconds timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path) throw AdminError("admin socket path too long: " + socket_path);
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);

    fs::UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socket.get() < 0) throw AdminError(std::string("cannot create a socket: ") + std::strerror(errno));
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        switch (errno) {
            case ENOENT:
                throw AdminError("ilchatd is not running: there is no admin socket at " + socket_path +
                                 " (or the daemon uses another one: see admin_socket in server.cfg, or --socket)");
            case ECONNREFUSED:
                throw AdminError("ilchatd is not running: nothing listens on " + socket_path +
                                 " (a socket left behind by a daemon that was killed)");
            case EACCES:
            case EPERM: throw AdminError(who_may(socket_path));
            default: throw AdminError("cannot connect to " + socket_path + ": " + std::strerror(errno));
        }
    }

    // A refused peer gets its answer and the close at once; the request may then not go out
    // (EPIPE), but the answer is still there to read.
    const std::string request = admin::render_request(command, arguments) + "\n";
    for (std::size_t sent = 0; sent < request.size();) {
        const auto n = ::send(socket.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        sent += static_cast<std::size_t>(n);
    }

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string reply;
    char buffer[4096];
    while (reply.find('\n') == std::string::npos) {
        int wait = -1;
        if (timeout.count() > 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                throw AdminError("ilchatd did not answer \"" + std::string(command) + "\" within " +
                                 std::to_string(timeout.count() / 1000) + " s (see --timeout)");
            wait = static_cast<int>(left.count());
        }
        pollfd p{socket.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, wait);
        if (ready < 0 && errno != EINTR)
            throw AdminError(std::string("waiting for ilchatd failed: ") + std::strerror(errno));
        if (ready <= 0) continue;  // interrupted, or the deadline check above ends the wait
        const auto n = ::recv(socket.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw AdminError("reading from " + socket_path + " failed: " + std::strerror(errno));
        if (n == 0) {
            if (reply.empty()) throw AdminError("ilchatd closed the admin connection without an answer");
            break;
        }
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    return parse_reply(reply.substr(0, reply.find('\n')), socket_path);
}

}  // namespace ilchat::ctl

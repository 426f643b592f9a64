#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

struct event_base;
struct evconnlistener;

namespace ilchat::ops {

// The Unix admin socket (docs/architecture.md): one JSON request per line in, one JSON reply
// per line out, on the control loop. Peers are checked by their credentials: root, the daemon's
// own user, or members of `group` (when given). Requests are capped in size and each connection
// idles out.
class AdminSocket {
public:
    // Answers one request line; calls `reply` (on the control loop) with the reply line.
    using Handler = std::function<void(const std::string& request, std::function<void(std::string)> reply)>;

    // Creates the socket at `path` with mode 0660 (an old socket file there is replaced).
    // Throws std::runtime_error with the reason when it cannot.
    AdminSocket(event_base* base, std::string path, gid_t group, Handler handler);
    ~AdminSocket();
    AdminSocket(const AdminSocket&) = delete;
    AdminSocket& operator=(const AdminSocket&) = delete;

    const std::string& path() const { return path_; }

    static constexpr std::size_t max_request_bytes = 64 * 1024;
    static constexpr int idle_timeout_seconds = 30;

private:
    struct Client;
    struct ListenerDeleter {
        void operator()(evconnlistener* listener) const;
    };
    void accept(int fd);
    void drop(Client* client);
    bool peer_allowed(int fd) const;

    event_base* base_;
    std::string path_;
    gid_t group_;
    Handler handler_;
    std::vector<std::unique_ptr<Client>> clients_;
    std::unique_ptr<evconnlistener, ListenerDeleter> listener_;
};

}  // namespace ilchat::ops

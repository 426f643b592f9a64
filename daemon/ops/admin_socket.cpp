#include "daemon/ops/admin_socket.h"

#include <algorithm>
#include <cerrno>
#include <grp.h>
#include <pwd.h>
#include <cstring>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <spdlog/spdlog.h>

#include "common/admin/admin_protocol.h"

namespace ilchat::ops {

// One connected admin client, owned by the AdminSocket; gone when its connection ends.
struct AdminSocket::Client {
    Client(AdminSocket& owner, bufferevent* bev) : owner(owner), bev(bev) {}
    ~Client() {
        *alive = false;  // replies still being computed are dropped
        // A reply written just before the daemon stops (the answer to `shutdown`) still goes
        // out: the loop that would have written it is gone. One try, without blocking.
        evbuffer* output = bufferevent_get_output(bev);
        if (const auto length = evbuffer_get_length(output); length > 0)
            [[maybe_unused]] auto n = ::send(bufferevent_getfd(bev), evbuffer_pullup(output, -1), length,
                                             MSG_DONTWAIT | MSG_NOSIGNAL);
        bufferevent_free(bev);
    }

    void on_read() {
        evbuffer* input = bufferevent_get_input(bev);
        while (true) {
            size_t length = 0;
            char* line = evbuffer_readln(input, &length, EVBUFFER_EOL_LF);
            if (!line) break;
            std::string request(line, length);
            free(line);
            owner.handler_(request, [self = this, alive = std::weak_ptr<bool>(alive)](std::string reply) {
                auto still = alive.lock();
                if (!still || !*still) return;
                reply += '\n';
                bufferevent_write(self->bev, reply.data(), reply.size());
            });
        }
        if (evbuffer_get_length(input) > max_request_bytes) {
            static constexpr char too_long[] = R"({"result":1,"text":"request line too long"})" "\n";
            bufferevent_write(bev, too_long, sizeof too_long - 1);
            closing = true;
            bufferevent_disable(bev, EV_READ);
        }
    }

    AdminSocket& owner;
    bufferevent* bev;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    bool closing = false;
};

void AdminSocket::ListenerDeleter::operator()(evconnlistener* listener) const { evconnlistener_free(listener); }

AdminSocket::AdminSocket(event_base* base, std::string path, gid_t group, Handler handler)
    : base_(base), path_(std::move(path)), group_(group), handler_(std::move(handler)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path) throw std::runtime_error("admin socket path too long: " + path_);
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    ::unlink(path_.c_str());  // a socket left by a previous run

    listener_.reset(evconnlistener_new_bind(
        base_,
        [](evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) { static_cast<AdminSocket*>(self)->accept(fd); },
        this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, reinterpret_cast<sockaddr*>(&address),
        sizeof address));
    if (!listener_)
        throw std::runtime_error("cannot create admin socket " + path_ + ": " + std::strerror(errno));
    if (::chmod(path_.c_str(), 0660) != 0)
        throw std::runtime_error("cannot set the mode of admin socket " + path_ + ": " + std::strerror(errno));
    if (group_ != static_cast<gid_t>(-1)) {
        if (::chown(path_.c_str(), static_cast<uid_t>(-1), group_) != 0)
            spdlog::warn("admin socket {}: cannot give it to group {}: {}", path_, group_, std::strerror(errno));
    }
}

AdminSocket::~AdminSocket() {
    listener_.reset();
    clients_.clear();
    ::unlink(path_.c_str());
}

void AdminSocket::drop(Client* client) {
    clients_.erase(std::find_if(clients_.begin(), clients_.end(), [&](auto& c) { return c.get() == client; }));
}

bool AdminSocket::peer_allowed(int fd) const {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return false;
    if (credentials.uid == 0 || credentials.uid == ::geteuid()) return true;
    if (group_ == static_cast<gid_t>(-1)) return false;
    if (credentials.gid == group_) return true;
    // Membership as a secondary group counts too, as for any file permission.
    const passwd* user = ::getpwuid(credentials.uid);
    if (!user) return false;
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<size_t>(count));
        if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &count) < 0) return false;
    }
    groups.resize(static_cast<size_t>(count));
    return std::find(groups.begin(), groups.end(), group_) != groups.end();
}

void AdminSocket::accept(int fd) {
    if (!peer_allowed(fd)) {
        static const std::string refused =
            admin::render_reply({admin::failed, std::string(admin::refusal)}) + "\n";
        [[maybe_unused]] auto n = ::write(fd, refused.data(), refused.size());
        ::close(fd);
        spdlog::warn("admin socket: refused a peer without permission");
        return;
    }
    bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        ::close(fd);
        return;
    }
    auto* client = clients_.emplace_back(std::make_unique<Client>(*this, bev)).get();
    timeval idle{idle_timeout_seconds, 0};
    bufferevent_set_timeouts(bev, &idle, nullptr);
    bufferevent_setcb(
        bev, [](bufferevent*, void* c) { static_cast<Client*>(c)->on_read(); },
        [](bufferevent* b, void* c) {
            // Written out: close when the client asked to (oversized request) or said EOF.
            auto* client = static_cast<Client*>(c);
            if (client->closing && evbuffer_get_length(bufferevent_get_output(b)) == 0) client->owner.drop(client);
        },
        [](bufferevent*, short, void* c) {
            auto* client = static_cast<Client*>(c);
            client->owner.drop(client);
        },
        client);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

}  // namespace ilchat::ops

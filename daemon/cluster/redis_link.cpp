#include "daemon/cluster/redis_link.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

namespace ilchat::cluster {

namespace {

struct Pending {
    RedisLink::Reply done;
};

void trampoline(redisAsyncContext*, void* reply, void* data) {
    std::unique_ptr<Pending> pending(static_cast<Pending*>(data));
    if (pending->done) pending->done(static_cast<const redisReply*>(reply));
}

bool is_error(const redisReply* reply) { return !reply || reply->type == REDIS_REPLY_ERROR; }

}  // namespace

void RedisLink::EventDeleter::operator()(event* ev) const { event_free(ev); }

RedisLink::RedisLink(event_base* base, RedisAddress address, Password password, std::string name,
                     std::function<void(bool)> on_state)
    : base_(base),
      address_(std::move(address)),
      password_(std::move(password)),
      name_(std::move(name)),
      on_state_(std::move(on_state)),
      retry_(evtimer_new(
          base, [](evutil_socket_t, short, void* self) { static_cast<RedisLink*>(self)->start(); }, this)) {}

RedisLink::~RedisLink() {
    closing_ = true;
    // Pending replies are answered with nullptr; the disconnect callback sees closing_.
    if (context_) redisAsyncFree(context_);
}

void RedisLink::start() {
    context_ = address_.unix_path.empty() ? redisAsyncConnect(address_.host.c_str(), address_.port)
                                          : redisAsyncConnectUnix(address_.unix_path.c_str());
    if (!context_ || context_->err) {
        lost(context_ ? context_->errstr : "out of memory");
        if (context_) redisAsyncFree(context_);
        context_ = nullptr;
        retry_later();
        return;
    }
    context_->data = this;
    refused_ = false;
    redisLibeventAttach(context_, base_);
    redisAsyncSetConnectCallback(context_, on_connect);
    redisAsyncSetDisconnectCallback(context_, on_disconnect);
    // hiredis sends these once connected, before anything asked later; the link is up when all
    // of them succeeded.
    auto refused = [this](std::string what) {
        return [this, what](const redisReply* reply) {
            if (!reply || reply->type != REDIS_REPLY_ERROR || refused_) return;
            refused_ = true;
            // A refused AUTH's reply does not contain the password.
            lost(what + " refused: " + std::string(reply->str, reply->len));
            if (context_) redisAsyncDisconnect(context_);
        };
    };
    if (const std::string password = password_ ? password_() : std::string(); !password.empty())
        command({"AUTH", password}, refused("AUTH"));
    if (address_.database != 0) command({"SELECT", std::to_string(address_.database)}, refused("SELECT"));
    command({"PING"}, [this, check = refused("PING")](const redisReply* reply) {
        check(reply);
        if (is_error(reply) || refused_) return;
        pause_ = std::chrono::milliseconds(100);
        problem_.clear();
        spdlog::info("Cluster: {} connected to Redis at {}", name_, describe(address_));
        set_up(true);
    });
}

bool RedisLink::command(const std::vector<std::string>& argv, Reply done) {
    if (!context_) return false;
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    for (const auto& a : argv) {
        args.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto pending = std::make_unique<Pending>(Pending{std::move(done)});
    if (redisAsyncCommandArgv(context_, trampoline, pending.get(), static_cast<int>(args.size()), args.data(),
                              lengths.data()) != REDIS_OK)
        return false;
    pending.release();  // trampoline owns it now
    return true;
}

void RedisLink::on_connect(const redisAsyncContext* context, int status) {
    auto* self = static_cast<RedisLink*>(context->data);
    if (status == REDIS_OK) return;  // up once PING answers
    // hiredis frees the context after this callback.
    self->context_ = nullptr;
    self->lost(context->errstr);
    self->retry_later();
}

void RedisLink::on_disconnect(const redisAsyncContext* context, int status) {
    auto* self = static_cast<RedisLink*>(context->data);
    self->context_ = nullptr;
    if (self->closing_) return;
    if (status != REDIS_OK || self->problem_.empty()) self->lost(context->err ? context->errstr : "connection closed");
    self->retry_later();
}

void RedisLink::lost(std::string problem) {
    if (problem_ != problem) spdlog::warn("Cluster: {} lost Redis at {}: {}", name_, describe(address_), problem);
    problem_ = std::move(problem);
    set_up(false);
}

void RedisLink::retry_later() {
    if (closing_) return;
    timeval pause{static_cast<time_t>(pause_.count() / 1000), static_cast<suseconds_t>(pause_.count() % 1000 * 1000)};
    evtimer_add(retry_.get(), &pause);
    pause_ = std::min(pause_ * 2, std::chrono::milliseconds(2000));
}

void RedisLink::set_up(bool up) {
    if (up_ == up) return;
    up_ = up;
    if (on_state_) on_state_(up);
}

}  // namespace ilchat::cluster

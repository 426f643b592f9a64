#include "daemon/ops/control_loop.h"

#include <csignal>
#include <pthread.h>
#include <stdexcept>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <spdlog/spdlog.h>

namespace ilchat::ops {

namespace {

constexpr int handled[] = {SIGTERM, SIGINT, SIGHUP};

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : handled) sigaddset(&set, s);
    return set;
}

}  // namespace

void ControlLoop::BaseDeleter::operator()(event_base* base) const { event_base_free(base); }
void ControlLoop::EventDeleter::operator()(event* ev) const { event_free(ev); }

void ControlLoop::block_signals_in_this_thread() {
    sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ControlLoop::ControlLoop(Hooks hooks)
    : hooks_(std::move(hooks)), mailbox_([this] {
          if (wake_) event_active(wake_.get(), EV_READ, 0);
      }) {
    static const int threads_ready = evthread_use_pthreads();
    if (threads_ready != 0) throw std::runtime_error("libevent: no pthread support");
    base_.reset(event_base_new());
    if (!base_) throw std::runtime_error("libevent: cannot create the control loop");

    wake_.reset(event_new(base_.get(), -1, EV_PERSIST,
                          [](evutil_socket_t, short, void* self) { static_cast<ControlLoop*>(self)->mailbox_.drain(); },
                          this));
    for (int s : handled) {
        signals_.emplace_back(evsignal_new(
            base_.get(), s, [](evutil_socket_t fd, short, void* self) { static_cast<ControlLoop*>(self)->on_signal(fd); },
            this));
        event_add(signals_.back().get(), nullptr);
    }
}

ControlLoop::~ControlLoop() { stop(); }

void ControlLoop::stop() {
    if (!thread_.joinable()) return;
    mailbox_.post([this] { event_base_loopbreak(base_.get()); });
    thread_.join();
}

void ControlLoop::start() {
    thread_ = std::thread([this] { run(); });
}

void ControlLoop::run() {
    sigset_t set = handled_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY);
}

void ControlLoop::every(std::chrono::milliseconds interval, std::function<void()> tick) {
    auto periodic = std::make_unique<Periodic>();
    periodic->tick = std::move(tick);
    periodic->event.reset(event_new(
        base_.get(), -1, EV_PERSIST, [](evutil_socket_t, short, void* p) { static_cast<Periodic*>(p)->tick(); },
        periodic.get()));
    const timeval tv{static_cast<time_t>(interval.count() / 1000), static_cast<suseconds_t>(interval.count() % 1000 * 1000)};
    event_add(periodic->event.get(), &tv);
    periodic_.push_back(std::move(periodic));
}

void ControlLoop::on_signal(int signal) {
    if (signal == SIGHUP) {
        spdlog::info("SIGHUP received: reloading the configuration");
        if (hooks_.reload) hooks_.reload();
        return;
    }
    if (++stop_signals_seen_ > 1) {
        spdlog::warn("{} again: exiting at once", strsignal(signal));
        spdlog::default_logger()->flush();
        ::_exit(1);
    }
    spdlog::info("{} received: shutting down", strsignal(signal));
    hooks_.graceful_stop();
}

}  // namespace ilchat::ops

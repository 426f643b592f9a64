#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/thread/mailbox.h"

struct event_base;
struct event;

namespace ilchat::ops {

// The control thread (docs/architecture.md, "Threads and loops"): a libevent loop that owns signal handling. The network
// thread blocks the signals, so they are only ever seen here, inside the loop.
class ControlLoop {
public:
    struct Hooks {
        std::function<void()> graceful_stop;  // first SIGTERM/SIGINT
        std::function<void()> reload;         // SIGHUP
    };

    explicit ControlLoop(Hooks hooks);
    ~ControlLoop();  // stops and joins the thread
    ControlLoop(const ControlLoop&) = delete;
    ControlLoop& operator=(const ControlLoop&) = delete;

    // Blocks the handled signals in the calling thread (and so in threads it starts later).
    // Call first thing in main(), before any other thread exists.
    static void block_signals_in_this_thread();

    void start();
    // Ends the loop and joins its thread (also done by the destructor); what lives on the loop
    // may be destroyed afterwards from the calling thread.
    void stop();
    Mailbox& mailbox() { return mailbox_; }
    // For components that live on this loop (admin socket, metrics endpoint). Create them
    // before start() or from jobs on the loop.
    event_base* base() const { return base_.get(); }
    // Runs `tick` every `interval` on the loop until the loop ends.
    void every(std::chrono::milliseconds interval, std::function<void()> tick);

private:
    struct BaseDeleter {
        void operator()(event_base* base) const;
    };
    struct EventDeleter {
        void operator()(event* ev) const;
    };
    using EventPtr = std::unique_ptr<event, EventDeleter>;

    void run();
    void on_signal(int signal);

    Hooks hooks_;
    std::unique_ptr<event_base, BaseDeleter> base_;
    EventPtr wake_;
    std::vector<EventPtr> signals_;
    struct Periodic {
        EventPtr event;
        std::function<void()> tick;
    };
    std::vector<std::unique_ptr<Periodic>> periodic_;
    Mailbox mailbox_;
    int stop_signals_seen_ = 0;
    std::thread thread_;
};

}  // namespace ilchat::ops

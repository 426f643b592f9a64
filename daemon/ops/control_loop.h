#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "common/thread/mailbox.h"

struct event_base;
struct event;

namespace ilchat::ops {

// The control thread (DESIGN.md): a libevent loop that owns signal handling. The network
// thread blocks the signals, so they are only ever seen here, inside the loop.
class ControlLoop {
public:
    struct Hooks {
        std::function<void()> graceful_stop;  // first SIGTERM/SIGINT
    };

    explicit ControlLoop(Hooks hooks);
    ~ControlLoop();  // stops and joins the thread
    ControlLoop(const ControlLoop&) = delete;
    ControlLoop& operator=(const ControlLoop&) = delete;

    // Blocks the handled signals in the calling thread (and so in threads it starts later).
    // Call first thing in main(), before any other thread exists.
    static void block_signals_in_this_thread();

    void start();
    Mailbox& mailbox() { return mailbox_; }

private:
    struct BaseDeleter {
        void operator()(event_base* base) const;
    };
    struct EventDeleter {
        void operator()(event* ev) const;
    };
    using EventPtr = std::unique_ptr<event, EventDeleter>;

    void run();
    void on_stop_signal(int signal);

    Hooks hooks_;
    std::unique_ptr<event_base, BaseDeleter> base_;
    EventPtr wake_;
    std::vector<EventPtr> signals_;
    Mailbox mailbox_;
    int stop_signals_seen_ = 0;
    std::thread thread_;
};

}  // namespace ilchat::ops

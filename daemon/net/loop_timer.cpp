#include "daemon/net/loop_timer.h"

#include <libwebsockets.h>

#include "daemon/net/network_loop.h"

namespace ilchat::net {

LoopTimer::LoopTimer(lws_context* context, std::function<void()> fire)
    : queue_(static_cast<NetworkLoop*>(lws_context_user(context))->timers()), fire_(std::move(fire)) {}

LoopTimer::~LoopTimer() { cancel(); }

void LoopTimer::start(std::chrono::milliseconds after) {
    cancel();
    entry_ = queue_.add(TimerQueue::Clock::now() + after, this);
}

void LoopTimer::cancel() {
    if (!entry_) return;
    queue_.remove(*entry_);
    entry_.reset();
}

void LoopTimer::expired() {
    entry_.reset();
    fire_();  // may destroy the timer's owner: nothing touches `this` afterwards
}

}  // namespace ilchat::net

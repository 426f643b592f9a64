#include "daemon/net/loop_timer.h"

namespace ilchat::net {

LoopTimer::LoopTimer(lws_context* context, std::function<void()> fire) : context_(context), fire_(std::move(fire)) {
    node_.owner = this;
}

LoopTimer::~LoopTimer() { cancel(); }

void LoopTimer::start(std::chrono::milliseconds after) {
    running_ = true;
    lws_sul_schedule(context_, 0, &node_.sul, expired, static_cast<lws_usec_t>(after.count()) * 1000);
}

void LoopTimer::cancel() {
    if (!running_) return;
    running_ = false;
    lws_sul_cancel(&node_.sul);
}

void LoopTimer::expired(lws_sorted_usec_list_t* sul) {
    LoopTimer* timer = reinterpret_cast<Node*>(sul)->owner;
    timer->running_ = false;
    timer->fire_();  // may destroy the timer's owner: nothing touches `timer` afterwards
}

}  // namespace ilchat::net

#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace ilchat {

// How threads talk (docs/architecture.md, "Threads and loops"): other threads post closures, the owning
// loop runs them after `wake` nudged it. Posting never blocks on the owner's work.
class Mailbox {
public:
    using Job = std::function<void()>;

    explicit Mailbox(std::function<void()> wake) : wake_(std::move(wake)) {}

    void post(Job job) {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(job));
        }
        wake_();
    }

    // Owner thread only: runs everything posted so far, in order.
    void drain() {
        std::vector<Job> jobs;
        {
            std::lock_guard lock(mutex_);
            jobs.swap(jobs_);
        }
        for (auto& job : jobs) job();
    }

private:
    std::function<void()> wake_;
    std::mutex mutex_;
    std::vector<Job> jobs_;
};

}  // namespace ilchat

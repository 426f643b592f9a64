// Send queues and superseded snapshots (daemon/net/frame.h): a newer user list replaces the one a
// slow client has not been written yet; everything else keeps its place.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/net/frame.h"

using ilchat::net::drop_superseded;
using ilchat::net::make_frame;
using ilchat::net::SharedFrame;

namespace {

std::vector<std::string> payloads(const std::vector<SharedFrame>& queue) {
    std::vector<std::string> out;
    for (const auto& frame : queue) out.emplace_back(frame->payload());
    return out;
}

}  // namespace

TEST_CASE("frames: a newer snapshot drops the unsent one it supersedes, nothing else", "[frame]") {
    std::vector<SharedFrame> queue{make_frame("written"), make_frame("list 1", false, "room A"),
                                   make_frame("message"), make_frame("list B", false, "room B")};
    const auto list2 = make_frame("list 2", false, "room A");
    // Index 0 is already written (a connection's read index): it is never touched.
    CHECK(drop_superseded(queue, 1, *list2) == std::string("list 1").size());
    queue.push_back(list2);
    CHECK(payloads(queue) == std::vector<std::string>{"written", "message", "list B", "list 2"});

    // A plain frame supersedes nothing; a key nobody has drops nothing.
    CHECK(drop_superseded(queue, 0, *make_frame("list 2")) == 0);
    CHECK(drop_superseded(queue, 0, *make_frame("x", false, "room C")) == 0);
    CHECK(queue.size() == 4);
}

TEST_CASE("frames: what is already written is never dropped", "[frame]") {
    std::vector<SharedFrame> queue{make_frame("list 1", false, "room A"), make_frame("message")};
    CHECK(drop_superseded(queue, 1, *make_frame("list 2", false, "room A")) == 0);
    CHECK(payloads(queue) == std::vector<std::string>{"list 1", "message"});
}

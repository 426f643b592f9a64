#include "daemon/net/frame.h"

#include <libwebsockets.h>

namespace ilchat::net {

std::string_view Frame::payload() const { return std::string_view(bytes).substr(LWS_PRE); }

unsigned char* Frame::writable_payload() const { return reinterpret_cast<unsigned char*>(bytes.data()) + LWS_PRE; }

SharedFrame make_frame(std::string_view payload, bool binary, std::string supersedes) {
    auto frame = std::make_shared<Frame>();
    frame->supersedes = std::move(supersedes);
    frame->bytes.reserve(LWS_PRE + payload.size());
    frame->bytes.assign(LWS_PRE, '\0');
    frame->bytes.append(payload);
    frame->binary = binary;
    return frame;
}

std::size_t drop_superseded(std::vector<SharedFrame>& queue, std::size_t from, const Frame& incoming) {
    if (incoming.supersedes.empty()) return 0;
    for (auto it = queue.begin() + static_cast<std::ptrdiff_t>(from); it != queue.end(); ++it) {
        if ((*it)->supersedes != incoming.supersedes) continue;
        const std::size_t size = (*it)->payload().size();
        queue.erase(it);
        return size;
    }
    return 0;
}

}  // namespace ilchat::net

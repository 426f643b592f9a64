#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ilchat::net {

// Decodes an HTTP/1.1 request body sent with `Transfer-Encoding: chunked` (RFC 9112 7.1) as it
// arrives in pieces. libwebsockets 4.1 hands such a body over undecoded, with no end.
class ChunkedBody {
public:
    enum class Status { more, complete, invalid };

    // Appends the data of `bytes` to `body`. After `complete`, `leftover()` says how many bytes of
    // this piece came after the body (a pipelined request).
    Status feed(std::string_view bytes, std::string& body);
    std::size_t leftover() const { return leftover_; }

private:
    enum class State { size, extension, size_lf, data, data_cr, data_lf, trailer_start, trailer, trailer_lf, final_lf, done };

    State state_ = State::size;
    std::size_t chunk_ = 0;
    std::size_t size_digits_ = 0;
    std::size_t leftover_ = 0;
};

}  // namespace ilchat::net

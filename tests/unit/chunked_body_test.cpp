#include <catch2/catch.hpp>

#include "daemon/net/chunked_body.h"

using ilchat::net::ChunkedBody;
using namespace std::string_literals;

namespace {

// Feeds `wire` in pieces of `piece` bytes; returns the last status and the body.
std::pair<ChunkedBody::Status, std::string> decode(std::string_view wire, std::size_t piece) {
    ChunkedBody decoder;
    std::string body;
    auto status = ChunkedBody::Status::more;
    for (std::size_t i = 0; i < wire.size() && status == ChunkedBody::Status::more; i += piece)
        status = decoder.feed(wire.substr(i, piece), body);
    return {status, body};
}

}  // namespace

TEST_CASE("chunked: bodies decode however the bytes are split", "[http]") {
    const std::string wire = "5\r\n4hell\r\n1;name=value\r\no\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (std::size_t piece = 1; piece <= wire.size(); ++piece) {
        INFO(piece);
        auto [status, body] = decode(wire, piece);
        CHECK(status == ChunkedBody::Status::complete);
        CHECK(body == "4hello0123456789");
    }
    auto [status, body] = decode("0\r\n\r\n", 5);
    CHECK(status == ChunkedBody::Status::complete);
    CHECK(body.empty());
}

TEST_CASE("chunked: what follows the body is counted as left over", "[http]") {
    ChunkedBody decoder;
    std::string body;
    CHECK(decoder.feed("2\r\n4a\r\n0\r\n\r\nGET / HTTP/1.1\r\n", body) == ChunkedBody::Status::complete);
    CHECK(body == "4a");
    CHECK(decoder.leftover() == "GET / HTTP/1.1\r\n"s.size());
}

TEST_CASE("chunked: an unfinished body asks for more", "[http]") {
    CHECK(decode("5\r\n4he", 3).first == ChunkedBody::Status::more);
    CHECK(decode("5\r\n4hell\r\n0\r\n", 4).first == ChunkedBody::Status::more);
}

TEST_CASE("chunked: malformed framing is refused", "[http]") {
    for (std::string wire : {"zz\r\n"s, "\r\n"s, "5\n4hell\r\n"s, "5\r\n4hello\r\n"s, "2\r\n4a\n"s, "2\r\n4a\r\r"s,
                             "1234567890123\r\n"s, "0\r\n\rX"s, "0\r\nTrailer\rX"s}) {
        INFO(wire);
        CHECK(decode(wire, wire.size()).first == ChunkedBody::Status::invalid);
    }
}

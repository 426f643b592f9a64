// The generator's own building blocks: if these were wrong, every benchmark figure would be.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tests/bench/loadgen/base64.h"
#include "tests/bench/loadgen/histogram.h"
#include "tests/bench/loadgen/source_addresses.h"
#include "tests/bench/loadgen/websocket.h"

using namespace ilchat::loadgen;

namespace {

// A frame as a server sends it: unmasked, with the shortest length encoding.
std::string server_frame(ws::Opcode opcode, bool fin, const std::string& payload) {
    std::string frame(1, static_cast<char>((fin ? 0x80 : 0) | static_cast<int>(opcode)));
    const std::uint64_t n = payload.size();
    if (n < 126) {
        frame += static_cast<char>(n);
    } else if (n < 65536) {
        frame += static_cast<char>(126);
        frame += static_cast<char>(n >> 8);
        frame += static_cast<char>(n & 0xff);
    } else {
        frame += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((n >> shift) & 0xff);
    }
    return frame + payload;
}

struct Read {
    std::vector<std::string> messages;
    std::vector<std::string> pings;
    std::string error;
};

// Feeds `stream` in pieces of at most `max_piece` bytes, as recv() may hand it over.
Read read_all(const std::string& stream, std::size_t max_piece, std::mt19937& random) {
    ws::FrameReader reader;
    Read read;
    std::string message, ping;
    for (std::size_t at = 0; at < stream.size();) {
        const std::size_t size = std::min<std::size_t>(stream.size() - at, 1 + random() % max_piece);
        std::string_view data(stream.data() + at, size);
        at += size;
        while (const auto piece = reader.next(data)) {
            std::string& into = piece->opcode == ws::Opcode::ping ? ping : message;
            into.append(piece->data);
            if (piece->opcode == ws::Opcode::ping && piece->frame_end) read.pings.push_back(std::exchange(ping, {}));
            else if (piece->frame_end && piece->fin) read.messages.push_back(std::exchange(message, {}));
        }
        if (reader.error()) {
            read.error = reader.error();
            break;
        }
        REQUIRE(data.empty());
    }
    return read;
}

}  // namespace

TEST_CASE("histogram percentiles are within 1 % of the exact ones") {
    Histogram histogram;
    std::vector<std::uint64_t> values;
    std::mt19937_64 random(7);
    std::lognormal_distribution<double> latency(7.0, 2.0);
    for (int i = 0; i < 200000; ++i) {
        const auto v = static_cast<std::uint64_t>(latency(random));
        histogram.record(v);
        values.push_back(v);
    }
    std::sort(values.begin(), values.end());
    for (const double q : {0.5, 0.9, 0.99, 0.999}) {
        const auto exact = values[static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1];
        const auto approximate = histogram.percentile(q);
        CHECK(approximate >= exact);
        CHECK(static_cast<double>(approximate) <= static_cast<double>(exact) * 1.01 + 1);
    }
    CHECK(histogram.percentile(1.0) == values.back());
    CHECK(histogram.max() == values.back());
    CHECK(histogram.min() == values.front());
    CHECK(histogram.count() == values.size());
}

TEST_CASE("histogram edge cases") {
    Histogram empty;
    CHECK(empty.percentile(0.5) == 0);
    CHECK(empty.max() == 0);
    CHECK(empty.mean() == 0.0);

    Histogram exact;
    for (std::uint64_t v = 0; v < 128; ++v) exact.record(v);
    CHECK(exact.percentile(0.5) == 63);  // small values have buckets of their own

    Histogram extreme;
    extreme.record(UINT64_MAX);
    extreme.record(5);
    CHECK(extreme.percentile(0.5) == 5);
    CHECK(extreme.percentile(1.0) == UINT64_MAX);
}

TEST_CASE("frame reader: every length encoding, fragments and pings, however the bytes arrive") {
    std::string stream;
    std::vector<std::string> expected;
    for (const std::size_t n : {1, 2, 125, 126, 127, 65535, 65536, 200000, 3}) {
        std::string payload(n, static_cast<char>('a' + n % 26));
        payload.front() = '4';
        stream += server_frame(ws::Opcode::text, true, payload);
        expected.push_back(payload);
    }
    // A message in three fragments with a ping between them (allowed by RFC 6455 5.4).
    stream += server_frame(ws::Opcode::text, false, "42/a,");
    stream += server_frame(ws::Opcode::ping, true, "are you there");
    stream += server_frame(ws::Opcode::continuation, false, "[\"x\"");
    stream += server_frame(ws::Opcode::continuation, true, "]");
    expected.push_back("42/a,[\"x\"]");

    std::mt19937 random(11);
    for (const std::size_t max_piece : {1, 2, 3, 7, 100, 4096, 70000, 1000000}) {
        const Read read = read_all(stream, max_piece, random);
        INFO("pieces of up to " << max_piece << " bytes");
        CHECK(read.error.empty());
        CHECK(read.messages == expected);
        CHECK(read.pings == std::vector<std::string>{"are you there"});
    }
}

TEST_CASE("frame reader: an empty frame is one empty piece") {
    ws::FrameReader reader;
    const std::string frame = server_frame(ws::Opcode::text, true, "");
    std::string_view data = frame;
    const auto piece = reader.next(data);
    REQUIRE(piece);
    CHECK(piece->frame_start);
    CHECK(piece->frame_end);
    CHECK(piece->data.empty());
    CHECK_FALSE(reader.next(data));
}

TEST_CASE("frame reader refuses what a server must not send") {
    std::mt19937 random(5);
    std::string masked = server_frame(ws::Opcode::text, true, "abcd");
    masked[1] = static_cast<char>(masked[1] | 0x80);
    CHECK(read_all(masked + "\1\2\3\4", 100, random).error == "the server masked a frame");

    std::string reserved = server_frame(ws::Opcode::text, true, "x");
    reserved[0] = static_cast<char>(reserved[0] | 0x40);
    CHECK_FALSE(read_all(reserved, 100, random).error.empty());

    CHECK_FALSE(read_all(server_frame(static_cast<ws::Opcode>(3), true, "x"), 100, random).error.empty());
    CHECK_FALSE(read_all(server_frame(ws::Opcode::ping, false, "x"), 100, random).error.empty());
    CHECK_FALSE(read_all(server_frame(ws::Opcode::ping, true, std::string(126, 'p')), 100, random).error.empty());
}

TEST_CASE("client frames are masked and carry the payload") {
    for (const std::size_t n : {0, 5, 125, 126, 65535, 65536}) {
        const std::string payload(n, 'q');
        std::vector<unsigned char> out(n + ws::max_header_bytes);
        const std::uint32_t mask = 0xa1b2c3d4;
        const std::size_t size = ws::write_frame(out.data(), ws::Opcode::text, payload, mask);
        const std::size_t header = n < 126 ? 2 : n < 65536 ? 4 : 10;
        REQUIRE(size == header + 4 + n);
        CHECK(out[0] == 0x81);
        CHECK((out[1] & 0x80) != 0);
        const unsigned char* key = out.data() + header;
        CHECK(key[0] == 0xa1);
        CHECK(key[3] == 0xd4);
        bool same = true;
        for (std::size_t i = 0; i < n; ++i)
            same = same && static_cast<char>(out[header + 4 + i] ^ key[i & 3]) == payload[i];
        CHECK(same);
    }
}

TEST_CASE("base64 as RFC 4648 has it") {
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foobar") == "Zm9vYmFy");
    CHECK(base64("key-0:secret-0") == "a2V5LTA6c2VjcmV0LTA=");
}

TEST_CASE("source address lists and ranges") {
    std::string problem;
    const auto range = expand_source_addresses("127.0.0.2-127.0.0.4", problem);
    CHECK(problem.empty());
    CHECK(range == std::vector<std::string>{"127.0.0.2", "127.0.0.3", "127.0.0.4"});

    const auto across = expand_source_addresses("127.0.0.255-127.0.1.1, ::1", problem);
    CHECK(problem.empty());
    CHECK(across == std::vector<std::string>{"127.0.0.255", "127.0.1.0", "127.0.1.1", "::1"});

    for (const char* bad : {"127.0.0.5-127.0.0.4", "localhost", "127.0.0.1-", "", "10.0.0.0-10.2.0.0"}) {
        problem.clear();
        CHECK(expand_source_addresses(bad, problem).empty());
        CHECK_FALSE(problem.empty());
    }
    CHECK(check_bindable("127.0.0.1").empty());
    CHECK_FALSE(check_bindable("192.0.2.1").empty());  // TEST-NET-1: not an address of this machine
}

#include <catch2/catch.hpp>

#include <random>

#include "daemon/net/engineio_packet.h"

using namespace ilchat::net::eio;
using namespace std::string_literals;

namespace {

Packet text_packet(PacketType type, std::string data = {}) {
    return Packet{type, std::move(data), false};
}

std::string every_byte_value() {
    std::string bytes;
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
    return bytes;
}

}  // namespace

TEST_CASE("eio: every packet type encodes as its digit followed by the data", "[eio]") {
    CHECK(encode_text(text_packet(PacketType::open, R"({"sid":"x"})")) == R"(0{"sid":"x"})");
    CHECK(encode_text(text_packet(PacketType::close)) == "1");
    CHECK(encode_text(text_packet(PacketType::ping)) == "2");
    CHECK(encode_text(text_packet(PacketType::ping, "probe")) == "2probe");
    CHECK(encode_text(text_packet(PacketType::pong, "probe")) == "3probe");
    CHECK(encode_text(text_packet(PacketType::message, "0/onscreen,")) == "40/onscreen,");
    CHECK(encode_text(text_packet(PacketType::upgrade)) == "5");
    CHECK(encode_text(text_packet(PacketType::noop)) == "6");
}

TEST_CASE("eio: every packet type decodes and round-trips", "[eio]") {
    const std::vector<Packet> packets = {
        text_packet(PacketType::open, R"({"sid":"Ow8qBaE_q3Pn2yBdAAAA","upgrades":["websocket"]})"),
        text_packet(PacketType::close),
        text_packet(PacketType::ping),
        text_packet(PacketType::ping, "probe"),
        text_packet(PacketType::pong),
        text_packet(PacketType::pong, "probe"),
        text_packet(PacketType::message),
        text_packet(PacketType::message, R"(2/onscreen,["message",{"content":"Hi"}])"),
        text_packet(PacketType::upgrade),
        text_packet(PacketType::noop),
        binary_message("\x00\x01\xfe\xff"s),
        binary_message(""),
    };
    for (const Packet& packet : packets) {
        const std::string text = encode_text(packet);
        INFO(text);
        const auto decoded = decode_text(text);
        REQUIRE(decoded);
        CHECK(*decoded == packet);
    }
    CHECK(decode_text("2probe") == text_packet(PacketType::ping, "probe"));
    CHECK(decode_text("6") == text_packet(PacketType::noop));
}

TEST_CASE("eio: binary messages travel as 'b' + base64 in text form", "[eio]") {
    const Packet binary = binary_message("\x00\x01\x02\x03\xff"s);
    CHECK(binary.type == PacketType::message);
    CHECK(binary.binary);
    CHECK(binary.data == "\x00\x01\x02\x03\xff"s);
    CHECK(encode_text(binary) == "bAAECA/8=");
    CHECK(decode_text("bAAECA/8=") == binary);
    CHECK(decode_text("b") == binary_message(""));
    // "4..." is a text message even when it looks like base64
    CHECK(decode_text("4AAECA/8=") == text_packet(PacketType::message, "AAECA/8="));
}

TEST_CASE("eio: invalid records do not decode", "[eio]") {
    CHECK_FALSE(decode_text(""));
    CHECK_FALSE(decode_text("7"));
    CHECK_FALSE(decode_text("9hello"));
    CHECK_FALSE(decode_text("x"));
    CHECK_FALSE(decode_text("/"));
    CHECK_FALSE(decode_text(" 4"));
    CHECK_FALSE(decode_text("B"));
    CHECK_FALSE(decode_text("bA"));
    CHECK_FALSE(decode_text("bAA="));
    CHECK_FALSE(decode_text("bAA!A"));
    CHECK_FALSE(decode_text("bA==="));
    CHECK_FALSE(decode_text("b=AAA"));
    CHECK_FALSE(decode_text("bAA=A"));
    CHECK_FALSE(decode_text("bAAAA\n"));
    CHECK_FALSE(decode_text("bAA-_"));  // URL-safe alphabet is not what engine.io sends
}

TEST_CASE("eio: base64 matches the RFC 4648 test vectors", "[eio]") {
    const std::vector<std::pair<std::string, std::string>> vectors = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [bytes, text] : vectors) {
        INFO(bytes);
        CHECK(base64_encode(bytes) == text);
        CHECK(base64_decode(text) == bytes);
    }
    CHECK(base64_encode("\xfb\xff\xbf"s) == "+/+/");
    CHECK(base64_decode("+/+/") == "\xfb\xff\xbf"s);
}

TEST_CASE("eio: base64 round-trips every byte value at every alignment", "[eio]") {
    const std::string bytes = every_byte_value();
    for (std::size_t length = 0; length <= bytes.size(); length += 1 + length / 8) {
        const std::string slice = bytes.substr(bytes.size() - length);
        INFO(length);
        CHECK(base64_decode(base64_encode(slice)) == slice);
    }
}

TEST_CASE("eio: base64 ignores stray bits in the last character, as Node does", "[eio]") {
    CHECK(base64_decode("Zh==") == "f");
    CHECK(base64_decode("Zm9=") == "fo");
}

TEST_CASE("eio: polling payloads join records with 0x1E", "[eio]") {
    const std::string post_body = "40/onscreen-im,\x1e" "40/onscreen,";
    CHECK(post_body.size() == 28);
    const auto packets = decode_payload(post_body);
    REQUIRE(packets);
    REQUIRE(packets->size() == 2);
    CHECK((*packets)[0] == text_packet(PacketType::message, "0/onscreen-im,"));
    CHECK((*packets)[1] == text_packet(PacketType::message, "0/onscreen,"));
    CHECK(encode_payload(*packets) == post_body);

    const std::vector<Packet> replies = {
        text_packet(PacketType::message, R"(0/onscreen-im,{"sid":"hXh2kLfmPq0aV3ZtAAAB"})"),
        text_packet(PacketType::message, R"(0/onscreen,{"sid":"Kf9sQm1LcPz7wRt2AAAC"})"),
    };
    CHECK(encode_payload(replies) ==
          "40/onscreen-im,{\"sid\":\"hXh2kLfmPq0aV3ZtAAAB\"}\x1e" "40/onscreen,{\"sid\":\"Kf9sQm1LcPz7wRt2AAAC\"}");
}

TEST_CASE("eio: single-record payloads are the bare record", "[eio]") {
    const std::vector<Packet> noop = {text_packet(PacketType::noop)};
    CHECK(encode_payload(noop) == "6");
    const std::vector<Packet> ping = {text_packet(PacketType::ping)};
    CHECK(encode_payload(ping) == "2");
    CHECK(decode_payload("3") == std::vector<Packet>{text_packet(PacketType::pong)});
    CHECK(decode_payload("1") == std::vector<Packet>{text_packet(PacketType::close)});
    CHECK(encode_payload({}).empty());
}

TEST_CASE("eio: payloads mix text and binary records", "[eio]") {
    const std::vector<Packet> packets = {
        text_packet(PacketType::message, R"(51-["upload",{"_placeholder":true,"num":0}])"),
        binary_message("\x01\x02\x03"s),
        text_packet(PacketType::ping),
    };
    const std::string body = encode_payload(packets);
    CHECK(body == "451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\x1e" "bAQID\x1e" "2");
    CHECK(decode_payload(body) == packets);
}

TEST_CASE("eio: a payload with any invalid record is rejected as a whole", "[eio]") {
    CHECK_FALSE(decode_payload(""));
    CHECK_FALSE(decode_payload("\x1e"));
    CHECK_FALSE(decode_payload("4a\x1e"));
    CHECK_FALSE(decode_payload("\x1e" "4a"));
    CHECK_FALSE(decode_payload("4a\x1e\x1e" "4b"));
    CHECK_FALSE(decode_payload("4a\x1e" "8b"));
    CHECK_FALSE(decode_payload("4a\x1e" "b!!!!\x1e" "4c"));
}

TEST_CASE("eio: UTF-8 and emoji pass through byte for byte", "[eio]") {
    const std::string text = "42/onscreen,[\"message\",{\"content\":\"Hi 😀 – äöü – 日本\",\"format\":{}},1,0]";
    const auto packet = decode_text(text);
    REQUIRE(packet);
    CHECK(packet->type == PacketType::message);
    CHECK(packet->data == text.substr(1));
    CHECK(encode_text(*packet) == text);
    const std::vector<Packet> both = {*packet, *packet};
    CHECK(decode_payload(encode_payload(both)) == both);
}

TEST_CASE("eio: random packets and payloads round-trip", "[eio]") {
    std::mt19937 random(20240611);
    auto below = [&random](int bound) { return std::uniform_int_distribution<int>(0, bound - 1)(random); };
    auto random_bytes = [&](bool allow_separator) {
        std::string bytes(static_cast<std::size_t>(below(40)), '\0');
        for (char& byte : bytes) {
            do {
                byte = static_cast<char>(below(256));
            } while (!allow_separator && byte == record_separator);
        }
        return bytes;
    };
    auto random_packet = [&] {
        if (below(4) == 0) return binary_message(random_bytes(true));
        return text_packet(static_cast<PacketType>('0' + below(7)), random_bytes(false));
    };

    for (int round = 0; round < 3000; ++round) {
        std::vector<Packet> packets(static_cast<std::size_t>(1 + below(6)));
        for (Packet& packet : packets) packet = random_packet();
        for (const Packet& packet : packets) REQUIRE(decode_text(encode_text(packet)) == packet);
        const std::string body = encode_payload(packets);
        INFO(body);
        REQUIRE(decode_payload(body) == packets);
    }
}

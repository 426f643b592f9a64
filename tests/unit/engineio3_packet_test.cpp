#include <catch2/catch.hpp>

#include <random>

#include "common/text/utf8.h"
#include "daemon/net/engineio_packet.h"

using namespace ilchat::net::eio;
using namespace std::string_literals;

namespace {

Packet text_packet(PacketType type, std::string data = {}) { return Packet{type, std::move(data), false}; }

std::string text_payload(std::initializer_list<std::string_view> records) {
    std::string payload;
    for (auto record : records) v3::append_record(payload, record);
    return payload;
}

}  // namespace

TEST_CASE("utf16: lengths count UTF-16 code units as JavaScript does", "[eio3]") {
    CHECK(ilchat::text::utf16_length("") == 0);
    CHECK(ilchat::text::utf16_length("abc") == 3);
    CHECK(ilchat::text::utf16_length("ä€") == 2);      // 2 and 3 bytes: one unit each
    CHECK(ilchat::text::utf16_length("\xF0\x9F\x98\x80") == 2);  // U+1F600: a surrogate pair
    // An example of the Engine.IO 3 length rule (docs/protocol.md, "Long-polling"): 58 code points, 61 bytes, length 59.
    const std::string packet = "42/onscreen,[\"message\",{\"content\":\"Hi \xF0\x9F\x98\x80\",\"format\":{}},1,0]";
    CHECK(packet.size() == 61);
    CHECK(ilchat::text::utf16_length(packet) == 59);
}

TEST_CASE("utf16: a prefix of n units ends on a code point boundary or not at all", "[eio3]") {
    const std::string text = "a\xF0\x9F\x98\x80" "b";  // a, emoji, b: 4 units, 6 bytes
    CHECK(ilchat::text::utf16_prefix_bytes(text, 0) == 0u);
    CHECK(ilchat::text::utf16_prefix_bytes(text, 1) == 1u);
    CHECK_FALSE(ilchat::text::utf16_prefix_bytes(text, 2));  // half the surrogate pair
    CHECK(ilchat::text::utf16_prefix_bytes(text, 3) == 5u);
    CHECK(ilchat::text::utf16_prefix_bytes(text, 4) == 6u);
    CHECK_FALSE(ilchat::text::utf16_prefix_bytes(text, 5));  // past the end
}

TEST_CASE("eio3: the handshake payload of a socket.io 2 server, byte for byte", "[eio3]") {
    const std::string open = R"(0{"sid":"Ow8qBaE_q3Pn2yBdAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000})";
    CHECK(text_payload({open, "40"}) ==
          R"(96:0{"sid":"Ow8qBaE_q3Pn2yBdAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40)");
}

TEST_CASE("eio3: text payloads decode record by record, lengths in UTF-16 units", "[eio3]") {
    auto packets = v3::decode_payload("15:40/onscreen-im,12:40/onscreen,");
    REQUIRE(packets);
    REQUIRE(packets->size() == 2);
    CHECK((*packets)[0] == text_packet(PacketType::message, "0/onscreen-im,"));
    CHECK((*packets)[1] == text_packet(PacketType::message, "0/onscreen,"));

    const std::string emoji = "42/onscreen,[\"message\",{\"content\":\"Hi \xF0\x9F\x98\x80\",\"format\":{}},1,0]";
    packets = v3::decode_payload("59:" + emoji + "1:2");
    REQUIRE(packets);
    REQUIRE(packets->size() == 2);
    CHECK((*packets)[0].data == emoji.substr(1));
    CHECK((*packets)[1] == text_packet(PacketType::ping));

    // engine.io-parser 2 skips empty records: "0:" is an empty payload's encoding.
    packets = v3::decode_payload("0:1:6");
    REQUIRE(packets);
    CHECK(*packets == std::vector<Packet>{text_packet(PacketType::noop)});
    packets = v3::decode_payload("0:");
    REQUIRE(packets);
    CHECK(packets->empty());
    // Leading zeros are still a number.
    CHECK(v3::decode_payload("01:2"));
}

TEST_CASE("eio3: malformed text payloads are parser errors", "[eio3]") {
    for (std::string body : {""s, "2"s, ":2"s, "x:2"s, "1x:2"s, "-1:2"s, " 1:2"s, "2:2"s, "1:21"s, "1:2 3"s, "1:9"s,
                             "1:b"s, "3:b4!"s, "3:b2AA"s, "999999999999999999999:2"s}) {
        INFO(body);
        CHECK_FALSE(v3::decode_payload(body));
    }
    // A length that ends inside a surrogate pair.
    CHECK_FALSE(v3::decode_payload("2:4\xF0\x9F\x98\x80"));
    CHECK(v3::decode_payload("3:4\xF0\x9F\x98\x80"));
}

TEST_CASE("eio3: binary in text framing is b + type digit + base64", "[eio3]") {
    const Packet binary = binary_message("\x01\x02\xff"s);
    CHECK(v3::encode_text(binary) == "b4AQL/");
    CHECK(v3::decode_text("b4AQL/") == binary);
    CHECK(v3::encode_text(text_packet(PacketType::message, "2[\"x\"]")) == "42[\"x\"]");
    CHECK_FALSE(v3::decode_text("bAQL/"));
    CHECK_FALSE(v3::decode_text("b2AQL/"));  // only messages are binary

    std::string payload;
    v3::append_record(payload, v3::encode_text(binary));
    CHECK(payload == "6:b4AQL/");
    auto packets = v3::decode_payload(payload);
    REQUIRE(packets);
    CHECK(*packets == std::vector<Packet>{binary});
}

TEST_CASE("eio3: binary payloads round-trip text and binary records", "[eio3]") {
    std::string bytes;
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
    const std::string text = "42[\"message\",\"gr\xC3\xBC\xC3\x9F \xF0\x9F\x98\x80\"]";

    std::string payload;
    v3::append_binary_record(payload, text);
    v3::append_binary_record(payload, binary_message(bytes));
    // Text record: 0, the UTF-8 byte count as digit bytes, 0xFF, the record.
    REQUIRE(text.size() == 27);
    CHECK(payload.substr(0, 4) == "\x00\x02\x07\xff"s);
    CHECK(payload.substr(4, text.size()) == text);
    // Binary record: 1, the count including the type byte (257), 0xFF, type byte 4, the data.
    CHECK(payload.substr(4 + text.size(), 6) == "\x01\x02\x05\x07\xff\x04"s);

    auto packets = v3::decode_binary_payload(payload);
    REQUIRE(packets);
    REQUIRE(packets->size() == 2);
    CHECK((*packets)[0] == text_packet(PacketType::message, text.substr(1)));
    CHECK((*packets)[1] == binary_message(bytes));
}

TEST_CASE("eio3: malformed binary payloads are parser errors", "[eio3]") {
    for (std::string body : {""s, "\x02\x01\xff" "2"s, "\x00\xff" "2"s, "\x00\x01"s, "\x00\x0a\xff" "2"s,
                             "\x00\x02\xff" "2"s, "\x01\x01\xff\x03"s, "\x00\x01\xff" "9"s,
                             "\x00\x02\xff" "4\xff"s}) {
        INFO(body.size());
        CHECK_FALSE(v3::decode_binary_payload(body));
    }
}

TEST_CASE("eio3: websocket binary frames carry the type byte", "[eio3]") {
    CHECK(v3::binary_frame("\x01\x02"s) == "\x04\x01\x02"s);
    CHECK(v3::decode_binary_frame("\x04\x01\x02"s) == binary_message("\x01\x02"s));
    CHECK(v3::decode_binary_frame("\x04"s) == binary_message(""));
    CHECK_FALSE(v3::decode_binary_frame(""));
    CHECK_FALSE(v3::decode_binary_frame("\x02\x01"s));
}

TEST_CASE("eio3: JSONP answers are a script with the payload as a string literal", "[eio3]") {
    CHECK(v3::jsonp_script("3", "2:40") == R"(___eio[3]("2:40");)");
    CHECK(v3::jsonp_script("0", "7:4\"a\\b\nc") == R"(___eio[0]("7:4\"a\\b\nc");)");
    // U+2028 / U+2029 are valid in JSON strings but end a line in a script.
    CHECK(v3::jsonp_script("1", "4:4\xE2\x80\xA8\xE2\x80\xA9") == R"(___eio[1]("4:4\u2028\u2029");)");
    CHECK(v3::valid_jsonp_index("0"));
    CHECK(v3::valid_jsonp_index("12"));
    for (auto bad : {"", "a", "1a", "-1", "1);alert(1)//", "1234567890"}) CHECK_FALSE(v3::valid_jsonp_index(bad));
}

TEST_CASE("eio3: JSONP forms carry the payload in d with newlines escaped", "[eio3]") {
    CHECK(v3::jsonp_form_payload("d=1%3A2") == "1:2");
    CHECK(v3::jsonp_form_payload("x=1&d=9%3A42%5B%22a+b%22%5D") == "9:42[\"a b\"]");
    // The client sent a newline as \n and a backslash-n as \\n.
    CHECK(v3::jsonp_form_payload("d=a%5Cnb") == "a\nb");
    CHECK(v3::jsonp_form_payload("d=a%5C%5Cnb") == "a\\nb");
    CHECK(v3::jsonp_form_payload("d=a%5Cb") == "a\\b");
    CHECK_FALSE(v3::jsonp_form_payload("e=1%3A2"));
    CHECK_FALSE(v3::jsonp_form_payload("d=%zz"));
    CHECK_FALSE(v3::jsonp_form_payload("d=%4"));
}

TEST_CASE("eio3: random payloads survive a round trip through both framings", "[eio3]") {
    std::mt19937 random(1234);
    const std::vector<std::string> alphabet = {"a", "\"", "\\", "\xC3\xA4", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", ":", "0",
                                               "\xE2\x80\xA8"};
    for (int round = 0; round < 200; ++round) {
        std::vector<Packet> packets;
        std::string text_form, binary_form;
        const int count = 1 + static_cast<int>(random() % 5);
        for (int i = 0; i < count; ++i) {
            Packet packet;
            if (random() % 4 == 0) {
                std::string bytes;
                for (unsigned n = random() % 20; n > 0; --n) bytes += static_cast<char>(random() % 256);
                packet = binary_message(bytes);
                binary_form.clear();
                v3::append_binary_record(binary_form, packet);
            } else {
                std::string data;
                for (unsigned n = random() % 30; n > 0; --n) data += alphabet[random() % alphabet.size()];
                packet = text_packet(PacketType::message, data);
            }
            packets.push_back(packet);
        }
        binary_form.clear();
        for (const auto& packet : packets) {
            v3::append_record(text_form, v3::encode_text(packet));
            if (packet.binary) v3::append_binary_record(binary_form, packet);
            else v3::append_binary_record(binary_form, encode_text(packet));
        }
        CHECK(v3::decode_payload(text_form) == packets);
        CHECK(v3::decode_binary_payload(binary_form) == packets);
    }
}

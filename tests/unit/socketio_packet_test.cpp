#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <stdexcept>

#include "daemon/net/engineio_packet.h"
#include "daemon/net/socketio_packet.h"

using namespace ilchat::net;
using namespace ilchat::net::sio;
using namespace std::string_literals;

namespace {

Packet make(PacketType type, std::string nsp, std::optional<std::uint64_t> ack_id, std::string payload) {
    Packet packet;
    packet.type = type;
    packet.nsp = std::move(nsp);
    packet.ack_id = ack_id;
    packet.payload = std::move(payload);
    return packet;
}

Packet decoded(std::string_view text) {
    const Decoded result = decode(text);
    INFO(text << " -> " << result.error);
    REQUIRE(result.packet);
    CHECK(result.error.empty());
    return *result.packet;
}

std::string error_of(std::string_view text) {
    const Decoded result = decode(text);
    INFO(text);
    CHECK_FALSE(result.packet);
    return result.error;
}

// Spec examples show the Engine.IO message ('4' + Socket.IO text), as in a websocket text frame.
Packet from_wire(std::string_view frame) {
    const auto message = eio::decode_text(frame);
    REQUIRE(message);
    REQUIRE(message->type == eio::PacketType::message);
    return decoded(message->data);
}

std::string to_wire(const Packet& packet) {
    return eio::encode_text(eio::Packet{eio::PacketType::message, encode(packet), false});
}

// Feeds a decoded header and its attachments through a Reassembler, as the connection does.
Packet reassembled(const Packet& header, const std::vector<std::string>& attachments) {
    Reassembler reassembler;
    std::optional<Packet> complete = reassembler.start(header);
    for (const std::string& attachment : attachments) {
        REQUIRE_FALSE(complete);
        REQUIRE(reassembler.pending());
        Decoded step = reassembler.add_attachment(attachment);
        REQUIRE(step.error.empty());
        complete = std::move(step.packet);
    }
    REQUIRE(complete);
    CHECK_FALSE(reassembler.pending());
    return *complete;
}

}  // namespace

TEST_CASE("sio: spec examples decode to the expected fields", "[sio]") {
    CHECK(from_wire(R"(42/onscreen,12["ev",1])") == make(PacketType::event, "/onscreen", 12, R"(["ev",1])"));
    CHECK(from_wire("43/onscreen,12[]") == make(PacketType::ack, "/onscreen", 12, "[]"));
    CHECK(from_wire("40/onscreen-im,") == make(PacketType::connect, "/onscreen-im", {}, ""));
    CHECK(from_wire("40/onscreen,") == make(PacketType::connect, "/onscreen", {}, ""));
    CHECK(from_wire(R"(40/onscreen-im,{"sid":"hXh2kLfmPq0aV3ZtAAAB"})") ==
          make(PacketType::connect, "/onscreen-im", {}, R"({"sid":"hXh2kLfmPq0aV3ZtAAAB"})"));
    CHECK(from_wire(R"(40/onscreen,{"token":"abc"})") == make(PacketType::connect, "/onscreen", {}, R"({"token":"abc"})"));
    CHECK(from_wire(R"(44/onscreen,{"message":"Invalid namespace"})") ==
          make(PacketType::connect_error, "/onscreen", {}, R"({"message":"Invalid namespace"})"));
    CHECK(from_wire(R"(44/onscreen,"Invalid namespace")") ==
          make(PacketType::connect_error, "/onscreen", {}, R"("Invalid namespace")"));
    CHECK(from_wire("41/onscreen,") == make(PacketType::disconnect, "/onscreen", {}, ""));
    CHECK(from_wire(R"(42/onscreen-im,["login",6,"root"])") ==
          make(PacketType::event, "/onscreen-im", {}, R"(["login",6,"root"])"));
    CHECK(from_wire(R"(42/onscreen,["message",{"content":"Hi","format":{}},1])") ==
          make(PacketType::event, "/onscreen", {}, R"(["message",{"content":"Hi","format":{}},1])"));
    CHECK(from_wire(R"(42/onscreen,5["x"])") == make(PacketType::event, "/onscreen", 5, R"(["x"])"));
    CHECK(from_wire("40") == make(PacketType::connect, "/", {}, ""));
    CHECK(from_wire("41") == make(PacketType::disconnect, "/", {}, ""));
    CHECK(from_wire(R"(42["hello","world"])") == make(PacketType::event, "/", {}, R"(["hello","world"])"));
    CHECK(from_wire(R"(427["hello"])") == make(PacketType::event, "/", 7, R"(["hello"])"));
}

TEST_CASE("sio: spec examples are what encode writes", "[sio]") {
    CHECK(to_wire(make(PacketType::event, "/onscreen", 12, R"(["ev",1])")) == R"(42/onscreen,12["ev",1])");
    CHECK(to_wire(make(PacketType::ack, "/onscreen", 12, "[]")) == "43/onscreen,12[]");
    CHECK(to_wire(make(PacketType::ack, "/onscreen", 5, "[]")) == "43/onscreen,5[]");
    CHECK(to_wire(make(PacketType::connect, "/onscreen-im", {}, "")) == "40/onscreen-im,");
    CHECK(to_wire(make(PacketType::connect, "/onscreen", {}, R"({"sid":"Kf9sQm1LcPz7wRt2AAAC"})")) ==
          R"(40/onscreen,{"sid":"Kf9sQm1LcPz7wRt2AAAC"})");
    CHECK(to_wire(make(PacketType::connect_error, "/onscreen", {}, R"({"message":"Invalid namespace"})")) ==
          R"(44/onscreen,{"message":"Invalid namespace"})");
    CHECK(to_wire(make(PacketType::disconnect, "/onscreen", {}, "")) == "41/onscreen,");
    CHECK(to_wire(make(PacketType::event, "/onscreen", {}, R"(["loggedIn"])")) == R"(42/onscreen,["loggedIn"])");
    CHECK(to_wire(make(PacketType::connect, "/", {}, "")) == "40");
    CHECK(to_wire(make(PacketType::event, "/", 3, R"(["a"])")) == R"(423["a"])");
}

TEST_CASE("sio: the spec's polling body carries two CONNECTs", "[sio]") {
    const auto records = eio::decode_payload("40/onscreen-im,\x1e" "40/onscreen,");
    REQUIRE(records);
    REQUIRE(records->size() == 2);
    CHECK(decoded((*records)[0].data) == make(PacketType::connect, "/onscreen-im", {}, ""));
    CHECK(decoded((*records)[1].data) == make(PacketType::connect, "/onscreen", {}, ""));
}

TEST_CASE("sio: an empty namespace is written like the default one", "[sio]") {
    CHECK(encode(make(PacketType::event, "", {}, R"(["a"])")) == R"(2["a"])");
    CHECK(decoded(R"(2/,["a"])") == make(PacketType::event, "/", {}, R"(["a"])"));
}

TEST_CASE("sio: every packet type round-trips", "[sio]") {
    const std::vector<Packet> packets = {
        make(PacketType::connect, "/", {}, ""),
        make(PacketType::connect, "/chat", {}, R"({"token":"t"})"),
        make(PacketType::disconnect, "/chat", {}, ""),
        make(PacketType::event, "/chat", {}, R"(["message",{"a":[1,2,{"b":null}]}])"),
        make(PacketType::event, "/", 0, R"([42,"numeric event name"])"),
        make(PacketType::ack, "/chat", 99, R"([])"),
        make(PacketType::ack, "/chat", 99, ""),
        make(PacketType::connect_error, "/chat", {}, R"({"message":"Invalid namespace","data":{}})"),
        make(PacketType::connect_error, "/", {}, R"("Invalid namespace")"),
    };
    for (const Packet& packet : packets) {
        const std::string text = encode(packet);
        INFO(text);
        CHECK(decoded(text) == packet);
    }
}

TEST_CASE("sio: binary packets announce attachments and reassemble", "[sio]") {
    const Packet header = decoded(R"(51-["ev",{"_placeholder":true,"num":0}])");
    CHECK(header.type == PacketType::binary_event);
    CHECK(header.nsp == "/");
    CHECK(header.attachment_count == 1);
    CHECK(header.attachments.empty());
    CHECK(header.payload == R"(["ev",{"_placeholder":true,"num":0}])");

    const Packet complete = reassembled(header, {"\x00\x01\x02"s});
    CHECK(complete.attachments == std::vector<std::string>{"\x00\x01\x02"s});
    CHECK(encode(complete) == R"(51-["ev",{"_placeholder":true,"num":0}])");

    const std::string two = R"(52-/chat,7["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])";
    const Packet header2 = decoded(two);
    CHECK(header2.type == PacketType::binary_event);
    CHECK(header2.nsp == "/chat");
    CHECK(header2.ack_id == 7u);
    CHECK(header2.attachment_count == 2);
    const Packet complete2 = reassembled(header2, {"first", ""});
    CHECK(complete2.attachments == std::vector<std::string>{"first", ""});
    CHECK(encode(complete2) == two);

    const Packet ack = decoded(R"(61-/chat,7[{"_placeholder":true,"num":0}])");
    CHECK(ack.type == PacketType::binary_ack);
    CHECK(ack.attachment_count == 1);
    CHECK(reassembled(ack, {"x"}).attachments == std::vector<std::string>{"x"});
}

TEST_CASE("sio: the Reassembler passes plain packets and refuses stray attachments", "[sio]") {
    Reassembler reassembler;
    CHECK_FALSE(reassembler.pending());
    const Packet event = make(PacketType::event, "/chat", {}, R"(["a"])");
    CHECK(reassembler.start(event) == event);
    CHECK_FALSE(reassembler.pending());

    const Decoded stray = reassembler.add_attachment("bytes");
    CHECK_FALSE(stray.packet);
    CHECK(stray.error == "binary attachment without a pending binary packet");

    const Packet header = decoded(R"(52-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    CHECK_FALSE(reassembler.start(header));
    CHECK(reassembler.pending());
    CHECK_THROWS_AS(reassembler.start(event), std::logic_error);
    const Decoded first = reassembler.add_attachment("1");
    CHECK_FALSE(first.packet);
    CHECK(first.error.empty());
    CHECK(reassembler.pending());
    const Decoded second = reassembler.add_attachment("2");
    REQUIRE(second.packet);
    CHECK(second.packet->attachments == std::vector<std::string>{"1", "2"});
    CHECK_FALSE(reassembler.pending());
    CHECK(reassembler.add_attachment("3").error == "binary attachment without a pending binary packet");
}

TEST_CASE("sio: encode writes the number of attachments it carries", "[sio]") {
    Packet packet = make(PacketType::binary_ack, "/", 3, R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    packet.attachments = {"a", "b"};
    packet.attachment_count = 7;  // ignored: the attachments are what follows on the wire
    CHECK(encode(packet) == R"(62-3[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
}

TEST_CASE("sio: UTF-8 and emoji content survives", "[sio]") {
    const std::string text = R"(2/onscreen,["message",{"content":"Hi 😀 – äöü – 日本 – \u00e9\ud83d\ude00","format":{}},1,0])";
    const Packet packet = decoded(text);
    CHECK(packet.payload == text.substr(11));
    CHECK(encode(packet) == text);
    CHECK(decoded(R"(2/räume-😀,["ä"])").nsp == "/räume-😀");
    CHECK(decoded(R"(2["😀"])").payload == R"(["😀"])");
}

TEST_CASE("sio: packet type errors", "[sio]") {
    CHECK(error_of("") == "empty packet");
    CHECK(error_of("7") == "unknown packet type '7'");
    CHECK(error_of(R"(9["a"])") == "unknown packet type '9'");
    CHECK(error_of(R"(x["a"])") == "unknown packet type 'x'");
    CHECK(error_of(R"( 2["a"])") == "unknown packet type ' '");
    CHECK(error_of("/chat,") == "unknown packet type '/'");
}

TEST_CASE("sio: attachment count errors", "[sio]") {
    CHECK(error_of(R"(5-["a"])") == "illegal attachment count");
    CHECK(error_of(R"(50-["a"])") == "illegal attachment count");
    CHECK(error_of(R"(6x-[])") == "illegal attachment count");
    CHECK(error_of(R"(51["a"])") == "illegal attachment count");
    CHECK(error_of("51") == "illegal attachment count");
    CHECK(error_of("5") == "illegal attachment count");
    CHECK(error_of(R"(5 1-["a"])") == "illegal attachment count");
    CHECK(error_of(R"(599999999999999999999999-["a"])") == "illegal attachment count");
    CHECK(error_of(R"(511-["a"])") == "too many attachments");
    CHECK(decoded(R"(510-["a"])").attachment_count == 10);
    CHECK(decoded(R"(501-["a"])").attachment_count == 1);
}

TEST_CASE("sio: JSON errors", "[sio]") {
    CHECK(error_of(R"(2["ev")") == "invalid JSON payload: Missing a comma or ']' after an array element. (offset 5)");
    CHECK(error_of(R"(2/chat,["ev",])") == "invalid JSON payload: Invalid value. (offset 6)");
    CHECK(error_of(R"(2['ev'])") == "invalid JSON payload: Invalid value. (offset 1)");
    CHECK(error_of(R"(2["ev",NaN])") == "invalid JSON payload: Invalid value. (offset 6)");
    CHECK(error_of(R"(0/chat,{token:1})") == "invalid JSON payload: Missing a name for object member. (offset 1)");
    CHECK(error_of("2[\"\xff\"]") == "invalid JSON payload: Invalid encoding in string. (offset 2)");
    CHECK(error_of("2[\"a\tb\"]") == "invalid JSON payload: Invalid escape character in string. (offset 3)");
    CHECK(error_of(R"(2["\x"])") == "invalid JSON payload: Invalid escape character in string. (offset 2)");
}

TEST_CASE("sio: trailing text after the JSON value is an error, trailing whitespace is not", "[sio]") {
    CHECK(error_of(R"(2["a"]x)") == "invalid JSON payload: The document root must not be followed by other values. (offset 5)");
    CHECK(error_of(R"(2["a"]["b"])") ==
          "invalid JSON payload: The document root must not be followed by other values. (offset 5)");
    CHECK(error_of(R"(0/chat,{}{})") ==
          "invalid JSON payload: The document root must not be followed by other values. (offset 2)");
    CHECK(error_of(R"(3/chat,1[],)") ==
          "invalid JSON payload: The document root must not be followed by other values. (offset 2)");
    CHECK(decoded("2[\"a\"] \n").payload == "[\"a\"] \n");
}

TEST_CASE("sio: payload shape errors per packet type", "[sio]") {
    CHECK(error_of(R"(0/chat,[])") == "CONNECT payload must be an object");
    CHECK(error_of(R"(0"token")") == "CONNECT payload must be an object");
    CHECK(error_of("0/chat,null") == "CONNECT payload must be an object");
    CHECK(error_of(R"(1/chat,{})") == "DISCONNECT must not have a payload");
    CHECK(error_of(R"(1/chat,"bye")") == "DISCONNECT must not have a payload");
    CHECK(error_of("1/chat,x") == "DISCONNECT must not have a payload");
    CHECK(error_of("2/chat,") == "EVENT without payload");
    CHECK(error_of("2") == "EVENT without payload");
    CHECK(error_of("2/chat,12") == "EVENT without payload");
    CHECK(error_of(R"(2{"a":1})") == "EVENT payload must be an array");
    CHECK(error_of(R"(2/chat,"ev")") == "EVENT payload must be an array");
    CHECK(error_of("2/chat,true") == "EVENT payload must be an array");
    CHECK(error_of("2[]") == "EVENT payload must start with the event name");
    CHECK(error_of("2[null]") == "EVENT payload must start with the event name");
    CHECK(error_of(R"(2[{"name":"ev"}])") == "EVENT payload must start with the event name");
    CHECK(error_of(R"(2[["ev"]])") == "EVENT payload must start with the event name");
    CHECK(error_of("2[true]") == "EVENT payload must start with the event name");
    CHECK(error_of(R"(51-[])") == "EVENT payload must start with the event name");
    CHECK(error_of(R"(51-{})") == "EVENT payload must be an array");
    CHECK(error_of(R"(3/chat,1{})") == "ACK payload must be an array");
    CHECK(error_of(R"(3/chat,1"x")") == "ACK payload must be an array");
    CHECK(error_of(R"(61-{})") == "ACK payload must be an array");
    CHECK(error_of(R"(4/chat,[])") == "CONNECT_ERROR payload must be a string or an object");
    CHECK(error_of(R"(4/chat,true)") == "CONNECT_ERROR payload must be a string or an object");
    CHECK(error_of(R"(4/chat,-1)") == "CONNECT_ERROR payload must be a string or an object");
}

TEST_CASE("sio rev 4: every payload is an array except an ERROR's", "[sio]") {
    auto rev4 = [](std::string_view text) { return decode(text, Revision::v4); };
    CHECK(rev4("0/chat,").packet);
    CHECK(rev4("0/chat?token=x,").packet->nsp == "/chat?token=x");  // the server strips the query
    CHECK(rev4("0/chat,[]").packet);
    CHECK(rev4("0/chat,{}").error == "payload must be an array");
    CHECK(rev4("1/chat,").packet);
    CHECK(rev4("1/chat,[]").packet);
    CHECK(rev4(R"(1/chat,"bye")").error == "payload must be an array");
    CHECK(rev4(R"(2/chat,["message",{"content":"Hi"},1,0])").packet);
    CHECK(rev4(R"(2["connect"])").packet);  // socket.io 2 had no reserved names
    CHECK(rev4("2[]").error == "EVENT payload must start with the event name");
    CHECK(rev4(R"(2{"a":1})").error == "payload must be an array");
    CHECK(rev4("2/chat,").error == "EVENT without payload");
    CHECK(rev4(R"(3/chat,1["x"])").packet);
    CHECK(rev4(R"(3/chat,1{})").error == "payload must be an array");
    CHECK(rev4(R"(4/chat,"Invalid namespace")").packet);
    CHECK(rev4(R"(4/chat,true)").packet);
    CHECK(rev4(R"(51-/chat,["x",{"_placeholder":true,"num":0}])").packet->attachment_count == 1);
    CHECK_FALSE(rev4(R"(2["x")").packet);
}

TEST_CASE("sio: reserved event names are refused, also when escaped", "[sio]") {
    for (const char* name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
        INFO(name);
        CHECK(error_of("2/chat,[\""s + name + "\",1]") == "reserved event name \""s + name + "\"");
        CHECK(error_of("51-[\""s + name + "\",{\"_placeholder\":true,\"num\":0}]") == "reserved event name \""s + name + "\"");
    }
    CHECK(error_of(R"(2["\u0063onnect"])") == R"(reserved event name "connect")");
    CHECK(decoded(R"(2["Connect"])").payload == R"(["Connect"])");
    CHECK(decoded(R"(2["connected"])").payload == R"(["connected"])");
    CHECK(decoded(R"(2["message",["connect"]])").payload == R"(["message",["connect"]])");
    // later elements and names inside objects are data, not event names
    CHECK(decoded(R"(2["x","disconnect"])").payload == R"(["x","disconnect"])");
}

TEST_CASE("sio: numeric event names are accepted, as socket.io-parser 4 does", "[sio]") {
    CHECK(decoded("2[1]").payload == "[1]");
    CHECK(decoded(R"(2/chat,[-1.5e3,"x"])").payload == R"([-1.5e3,"x"])");
}

TEST_CASE("sio: absent payloads are accepted where socket.io-parser accepts them", "[sio]") {
    CHECK(decoded("3/chat,4") == make(PacketType::ack, "/chat", 4, ""));
    CHECK(decoded("4/chat,") == make(PacketType::connect_error, "/chat", {}, ""));
    // the ack id swallows the digits, so a bare number is never a payload
    CHECK(decoded("4/chat,12") == make(PacketType::connect_error, "/chat", 12, ""));
    CHECK(decoded("0/chat,3") == make(PacketType::connect, "/chat", 3, ""));
}

TEST_CASE("sio: the namespace runs to the next comma or the end", "[sio]") {
    CHECK(decoded("0/onscreen") == make(PacketType::connect, "/onscreen", {}, ""));
    CHECK(decoded("1/onscreen") == make(PacketType::disconnect, "/onscreen", {}, ""));
    CHECK(decoded("3/chat") == make(PacketType::ack, "/chat", {}, ""));
    // without the comma, what looks like an ack id and payload is part of the namespace
    CHECK(error_of(R"(2/onscreen["a"])") == "EVENT without payload");
    CHECK(decoded(R"(3/onscreen12[])") == make(PacketType::ack, R"(/onscreen12[])", {}, ""));
    CHECK(decoded("0/a/b?x=1,") == make(PacketType::connect, "/a/b?x=1", {}, ""));
    CHECK(decoded("0/,") == make(PacketType::connect, "/", {}, ""));
    // only a leading '/' starts a namespace; otherwise a comma is payload, and bad JSON
    CHECK(error_of(R"(2chat,["a"])") == "invalid JSON payload: Invalid value. (offset 0)");
    CHECK(error_of(R"(2,["a"])") == "invalid JSON payload: The document is empty. (offset 0)");
    CHECK(decoded(R"(2/chat,["a,b"])").payload == R"(["a,b"])");
}

TEST_CASE("sio: ack ids are the digits after the namespace and must fit 64 bits", "[sio]") {
    CHECK(decoded(R"(2/chat,0["a"])").ack_id == 0u);
    CHECK(decoded(R"(2/chat,007["a"])").ack_id == 7u);
    CHECK(decoded(R"(2/chat,18446744073709551615["a"])").ack_id == std::numeric_limits<std::uint64_t>::max());
    CHECK(error_of(R"(2/chat,18446744073709551616["a"])") == "ack id out of range");
    CHECK(error_of(R"(2/chat,99999999999999999999999999999["a"])") == "ack id out of range");
    CHECK(decoded(R"(2/chat,["a"])").ack_id == std::nullopt);
    Packet max_id = make(PacketType::ack, "/chat", std::numeric_limits<std::uint64_t>::max(), "[]");
    CHECK(encode(max_id) == "3/chat,18446744073709551615[]");
}

TEST_CASE("sio: numbers and escapes as JSON allows them", "[sio]") {
    CHECK(decoded(R"(2["a",-1e-400,123456789012345678901234567890,0.5,-0])").payload ==
          R"(["a",-1e-400,123456789012345678901234567890,0.5,-0])");
    // JSON.parse would make this Infinity, but JSON.stringify never writes it (Infinity becomes null)
    CHECK(error_of(R"(2["a",1e400])") == "invalid JSON payload: Number too big to be stored in double. (offset 5)");
    CHECK(error_of(R"(2["a",01])") == "invalid JSON payload: Missing a comma or ']' after an array element. (offset 6)");
    CHECK(decoded(R"(2["a\u0000b","\"\\\/\b\f\n\r\t"])").payload == R"(["a\u0000b","\"\\\/\b\f\n\r\t"])");
}

TEST_CASE("sio: deeply nested payloads neither crash nor get refused", "[sio]") {
    const std::size_t depth = 200000;
    const std::string nested = "2[\"deep\"," + std::string(depth, '[') + std::string(depth, ']') + "]";
    CHECK(decoded(nested).payload.size() == nested.size() - 1);
    const std::string unclosed = "2[\"deep\"," + std::string(depth, '[');
    CHECK(decode(unclosed).error.starts_with("invalid JSON payload: "));
}

namespace {

// Builds random packets that encode to valid text, with JSON written the way JSON.stringify would.
class RandomPackets {
public:
    explicit RandomPackets(std::uint32_t seed) : random_(seed) {}

    Packet packet() {
        Packet packet;
        packet.type = static_cast<PacketType>(below(7));
        packet.nsp = below(3) == 0 ? "/" : "/" + namespace_name();
        if (below(2) == 0) {
            const auto small = static_cast<std::uint64_t>(below(100000));
            packet.ack_id = below(4) == 0 ? std::numeric_limits<std::uint64_t>::max() - small % 3 : small;
        }
        switch (packet.type) {
        case PacketType::connect:
            if (below(2) == 0) packet.payload = object(2);
            break;
        case PacketType::disconnect:
            break;
        case PacketType::event:
            packet.payload = event_array({});
            break;
        case PacketType::ack:
            if (below(5) != 0) packet.payload = array(3);
            break;
        case PacketType::connect_error:
            packet.payload = below(2) == 0 ? object(2) : quoted(text(20));
            break;
        case PacketType::binary_event:
        case PacketType::binary_ack:
            packet.attachments.resize(static_cast<std::size_t>(1 + below(max_attachments)));
            for (std::string& attachment : packet.attachments) attachment = bytes();
            packet.attachment_count = packet.attachments.size();
            packet.payload = packet.type == PacketType::binary_event ? event_array(packet.attachments.size())
                                                                     : placeholders_array(packet.attachments.size());
            break;
        }
        return packet;
    }

private:
    int below(std::size_t bound) {
        return std::uniform_int_distribution<int>(0, static_cast<int>(bound) - 1)(random_);
    }

    static void append_utf8(std::string& out, char32_t code_point) {
        if (code_point < 0x80) {
            out += static_cast<char>(code_point);
        } else if (code_point < 0x800) {
            out += static_cast<char>(0xc0 | code_point >> 6);
            out += static_cast<char>(0x80 | (code_point & 0x3f));
        } else if (code_point < 0x10000) {
            out += static_cast<char>(0xe0 | code_point >> 12);
            out += static_cast<char>(0x80 | (code_point >> 6 & 0x3f));
            out += static_cast<char>(0x80 | (code_point & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | code_point >> 18);
            out += static_cast<char>(0x80 | (code_point >> 12 & 0x3f));
            out += static_cast<char>(0x80 | (code_point >> 6 & 0x3f));
            out += static_cast<char>(0x80 | (code_point & 0x3f));
        }
    }

    char32_t code_point() {
        static constexpr char32_t interesting[] = {
            U'"', U'\\', U'/', U',', U'[', U']', U'{', U'}', U':', U'-', U'0', U'7', U' ', U'\n', U'\t',
            U'\x1e', U'\0', U'\x7f', U'é', U'ß', U'€', U'日', U'\u2028', U'\u2029', U'\ufeff', U'😀', U'👍', U'\U0010ffff',
        };
        switch (below(4)) {
        case 0: return interesting[below(std::size(interesting))];
        case 1: return static_cast<char32_t>(0x20 + below(0x5f));
        case 2: return static_cast<char32_t>(0x80 + below(0xd800 - 0x80));
        default: return static_cast<char32_t>(0x10000 + below(0x100000));
        }
    }

    // Unescaped text of random code points.
    std::string text(std::size_t max_length) {
        std::string out;
        const int length = below(max_length + 1);
        for (int i = 0; i < length; ++i) append_utf8(out, code_point());
        return out;
    }

    // Anything but the ',' that ends a namespace and control characters (which namespaces, being
    // written raw, would carry into the polling framing).
    std::string namespace_name() {
        std::string out;
        const int length = below(13);
        for (int i = 0; i < length; ++i) {
            const char32_t c = code_point();
            append_utf8(out, c == U',' || c < U' ' ? U'_' : c);
        }
        return out;
    }

    // A JSON string literal as JSON.stringify writes it: control characters escaped, the rest raw.
    static std::string quoted(std::string_view raw) {
        std::string out = "\"";
        for (char c : raw) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else if (byte < 0x20) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[byte >> 4];
                out += hex[byte & 0xf];
            } else {
                out += c;
            }
        }
        return out + "\"";
    }

    std::string number() {
        static constexpr const char* samples[] = {"0", "-0", "1", "-17", "3.25", "1e21", "-2.5E-7", "9007199254740993"};
        if (below(2) == 0) return samples[below(std::size(samples))];
        return std::to_string(static_cast<int>(random_()));
    }

    std::string value(int depth) {
        switch (below(depth > 0 ? 7 : 5)) {
        case 0: return "null";
        case 1: return below(2) == 0 ? "true" : "false";
        case 2: return number();
        case 3:
        case 4: return quoted(text(16));
        case 5: return array(depth - 1);
        default: return object(depth - 1);
        }
    }

    std::string array(int depth) {
        std::string out = "[";
        const int count = below(4);
        for (int i = 0; i < count; ++i) out += (i > 0 ? "," : "") + value(depth);
        return out + "]";
    }

    std::string object(int depth) {
        std::string out = "{";
        const int count = below(4);
        for (int i = 0; i < count; ++i) out += (i > 0 ? "," : "") + quoted(text(8)) + ":" + value(depth);
        return out + "}";
    }

    std::string event_name() {
        if (below(5) == 0) return number();
        return quoted(text(10) + "ev");  // the suffix keeps it clear of the reserved names
    }

    static std::string placeholder(std::size_t num) {
        return R"({"_placeholder":true,"num":)" + std::to_string(num) + "}";
    }

    std::string event_array(std::size_t placeholders) {
        std::string out = "[" + event_name();
        for (std::size_t i = 0; i < placeholders; ++i) out += "," + placeholder(i);
        const int extra = below(4);
        for (int i = 0; i < extra; ++i) out += "," + value(3);
        return out + "]";
    }

    std::string placeholders_array(std::size_t placeholders) {
        std::string out = "[";
        for (std::size_t i = 0; i < placeholders; ++i) out += (i > 0 ? "," : "") + placeholder(i);
        return out + "]";
    }

    std::string bytes() {
        std::string out(static_cast<std::size_t>(below(64)), '\0');
        for (char& byte : out) byte = static_cast<char>(below(256));
        return out;
    }

    std::mt19937 random_;
};

// The engine.io messages that carry a Socket.IO packet: the text, then one binary message per attachment.
std::vector<eio::Packet> as_messages(const Packet& packet) {
    std::vector<eio::Packet> messages = {eio::Packet{eio::PacketType::message, encode(packet), false}};
    for (const std::string& attachment : packet.attachments) messages.push_back(eio::binary_message(attachment));
    return messages;
}

}  // namespace

TEST_CASE("sio: random packets round-trip through encode, decode and the Reassembler", "[sio]") {
    RandomPackets generate(4242);
    for (int round = 0; round < 4000; ++round) {
        const Packet packet = generate.packet();
        const std::string text = encode(packet);
        INFO(text);
        const Decoded result = decode(text);
        INFO(result.error);
        REQUIRE(result.packet);
        if (packet.attachments.empty()) {
            REQUIRE(*result.packet == packet);
        } else {
            REQUIRE(reassembled(*result.packet, packet.attachments) == packet);
        }
    }
}

TEST_CASE("sio: random packets round-trip inside engine.io polling payloads", "[sio][eio]") {
    RandomPackets generate(777);
    for (int round = 0; round < 1000; ++round) {
        std::vector<Packet> packets(3);
        std::vector<eio::Packet> messages;
        for (Packet& packet : packets) {
            packet = generate.packet();
            for (eio::Packet& message : as_messages(packet)) messages.push_back(std::move(message));
        }
        const std::string body = eio::encode_payload(messages);
        INFO(body);
        const auto received = eio::decode_payload(body);
        REQUIRE(received);
        REQUIRE(*received == messages);

        Reassembler reassembler;
        std::vector<Packet> decoded_packets;
        for (const eio::Packet& message : *received) {
            std::optional<Packet> complete;
            if (message.binary) {
                Decoded step = reassembler.add_attachment(message.data);
                REQUIRE(step.error.empty());
                complete = std::move(step.packet);
            } else {
                REQUIRE_FALSE(reassembler.pending());
                const Decoded result = decode(message.data);
                REQUIRE(result.packet);
                complete = reassembler.start(*result.packet);
            }
            if (complete) decoded_packets.push_back(std::move(*complete));
        }
        CHECK_FALSE(reassembler.pending());
        REQUIRE(decoded_packets == packets);
    }
}

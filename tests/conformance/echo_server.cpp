// The echo server of the official Engine.IO and Socket.IO protocol test-suites
// (socketio/engine.io-protocol and socketio/socket.io-protocol, folder test-suite/), built on
// ilchatd's own network loop, Engine.IO and Socket.IO layers:
//   /engine.io/  every message is sent back as it came
//   /socket.io/  namespaces "/" and "/custom": `message` comes back as `message-back`,
//                `message-with-ack` is acknowledged with its arguments, and every new socket gets
//                `auth` with its CONNECT payload.
// Timers as the suites expect them: pingInterval 300, pingTimeout 200, connectTimeout 1000 (the
// same heartbeat for Engine.IO 3 clients, which ping themselves).
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "daemon/net/engineio_server.h"
#include "daemon/net/network_loop.h"
#include "daemon/net/socketio_server.h"
#include "daemon/ops/control_loop.h"

namespace {

using namespace ilchat::net;

class EchoHandler final : public eio::SessionHandler {
public:
    void on_open(eio::Session&) override {}
    void on_message(eio::Session& session, std::string_view data, bool binary) override {
        session.send(eio::message_frame(data, binary));
    }
    void on_close(eio::Session&, eio::CloseReason) override {}
};

void serve_echo(sio::Namespace& nsp) {
    nsp.on_connect([](sio::Socket& socket) { socket.emit("auth", socket.auth().empty() ? "{}" : socket.auth()); });
    nsp.on("message", [](sio::Socket& socket, const sio::Event& event) {
        socket.emit("message-back", event.args_json(), event.attachments);
    });
    nsp.on("message-with-ack", [](sio::Socket& socket, const sio::Event& event) {
        if (event.ack_id) socket.ack(*event.ack_id, event.args_json(), event.attachments);
    });
}

}  // namespace

int main(int argc, char** argv) {
    ilchat::ops::ControlLoop::block_signals_in_this_thread();
    std::string address = "127.0.0.1";
    int port = 3000;
    CLI::App app{"Echo server for the official Engine.IO/Socket.IO protocol test-suites"};
    app.add_option("--address", address, "listen address");
    app.add_option("--port", port, "listen port");
    bool v4_only = false;
    app.add_flag("--v4-only", v4_only,
                 "refuse Engine.IO 3 / Socket.IO rev 4 clients (socket.io 2.x) as a socket.io 4 server does without "
                 "allowEIO3: the behaviour the official suites check");
    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::warn);

    eio::Settings settings;
    settings.ping_interval = std::chrono::milliseconds(300);
    settings.ping_timeout = std::chrono::milliseconds(200);
    settings.legacy_ping_timeout = settings.ping_timeout;
    settings.max_payload = 1000000;
    settings.allow_eio3 = !v4_only;

    try {
        ListenSpec listen;
        listen.address = address;
        listen.port = port;
        NetworkLoop network(listen);

        EchoHandler echo;
        eio::Server engineio(network.timers(), settings, echo);
        eio::mount(network.router(), "/engine.io/", engineio);

        sio::Server socketio(network.timers(), std::chrono::milliseconds(1000));
        serve_echo(socketio.add_namespace("/"));
        serve_echo(socketio.add_namespace("/custom"));
        eio::Server socketio_transport(network.timers(), settings, socketio);
        eio::mount(network.router(), "/socket.io/", socketio_transport);

        ilchat::ops::ControlLoop control({.graceful_stop = [&network] { network.mailbox().post([&network] { network.stop(); }); },
                                          .reload = {}});
        control.start();
        std::cout << "echo server listening on " << address << ":" << port << std::endl;
        network.run();
    } catch (const std::exception& e) {
        std::cerr << "echo_server: " << e.what() << '\n';
        return 1;
    }
    return 0;
}

// The signaling WebSocket on a plain TCP connection, once Beast has answered the upgrade.
// Built for many idle peers: it waits for data with a bufferless async_wait, reads into the
// server's one shared buffer, and keeps for itself only the frame layer's state, an
// incomplete message while one comes in, and a send queue while something goes out. TLS
// connections keep Beast's WebSocket stream (sessions.cpp): their OpenSSL state dwarfs it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "server_context.hpp"

namespace p2pcdn::server {

// Takes over `socket` after the 101 response. `origin` is the upgrade request's Origin
// header; `early_bytes`, what the client sent after its request, read along with it
// (normally nothing: a client waits for the 101 before sending frames).
void start_plain_websocket(Socket socket, ServerContext& context, ConnectionTicket ticket,
                           std::string origin, std::vector<uint8_t> early_bytes);

}  // namespace p2pcdn::server

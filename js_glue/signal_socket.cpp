// The page's signaling socket, in C++ on Emscripten's WebSocket API: messages are encoded
// and decoded by the core's codec where they arrive, and JS sees only plain objects.
// Part of the Wasm module (not of wasm/, which stays free of I/O).
#include <emscripten/bind.h>
#include <emscripten/websocket.h>

#include <string>

#include "../wasm/bindings/js_values.hpp"
#include "p2pcdn/signal.hpp"

namespace p2pcdn::js {
namespace {

class SignalSocket {
 public:
  // on_event(kind, detail): kind is "open", "message" (detail: decoded object),
  // "error" (detail: {error, message}) or "close" (detail: {code, reason}).
  SignalSocket(std::string url, val on_event)
      : url_(std::move(url)), on_event_(std::move(on_event)) {}
  ~SignalSocket() { close(1000, "gone"); }
  SignalSocket(const SignalSocket&) = delete;
  SignalSocket& operator=(const SignalSocket&) = delete;

  // False (and an "error" event) if the browser refuses the URL.
  bool open() {
    if (!emscripten_websocket_is_supported()) return fail("WebSocket unsupported");
    EmscriptenWebSocketCreateAttributes attrs;
    emscripten_websocket_init_create_attributes(&attrs);
    attrs.url = url_.c_str();
    attrs.createOnMainThread = EM_TRUE;
    socket_ = emscripten_websocket_new(&attrs);
    if (socket_ <= 0) return fail("cannot open " + url_);
    emscripten_websocket_set_onopen_callback(socket_, this, &SignalSocket::on_open);
    emscripten_websocket_set_onmessage_callback(socket_, this, &SignalSocket::on_message);
    emscripten_websocket_set_onerror_callback(socket_, this, &SignalSocket::on_error);
    emscripten_websocket_set_onclose_callback(socket_, this, &SignalSocket::on_close);
    return true;
  }

  // Encodes and sends; null when sent, {error, message} otherwise.
  val send(val message) {
    auto decoded = signal_from_js(message);
    if (!decoded) return error_value(decoded.error());
    auto bytes = encode_signal(decoded.value());
    if (!bytes) return error_value(bytes.error());
    if (socket_ <= 0 || !open_) return error_text("signaling socket not open");
    const auto r = emscripten_websocket_send_binary(socket_, bytes->data(),
                                                    static_cast<uint32_t>(bytes->size()));
    return r == EMSCRIPTEN_RESULT_SUCCESS ? val::null() : error_text("send failed");
  }

  void close(unsigned short code, std::string reason) {
    if (socket_ <= 0) return;
    if (open_) emscripten_websocket_close(socket_, code, reason.c_str());
    // Still connecting: left to connect, then closed. Open or already closed: gone now, with
    // no callbacks after this (`this` may be gone).
    if (!open_ && !closed_) {
      linger(socket_);
    } else {
      emscripten_websocket_delete(socket_);
    }
    socket_ = 0;
    open_ = false;
  }

  bool is_open() const { return open_; }

 private:
  static EM_BOOL on_open(int, const EmscriptenWebSocketOpenEvent*, void* self) {
    auto* s = static_cast<SignalSocket*>(self);
    s->open_ = true;
    s->on_event_(std::string("open"), val::null());
    return EM_TRUE;
  }

  static EM_BOOL on_message(int, const EmscriptenWebSocketMessageEvent* e, void* self) {
    auto* s = static_cast<SignalSocket*>(self);
    if (e->isText) {
      s->on_event_(std::string("error"), error_text("text message from the signaling server"));
      return EM_TRUE;
    }
    auto message = decode_signal(ByteView(e->data, e->numBytes));
    if (message) {
      s->on_event_(std::string("message"), signal_to_js(message.value()));
    } else {
      s->on_event_(std::string("error"), error_value(message.error()));
    }
    return EM_TRUE;
  }

  static EM_BOOL on_error(int, const EmscriptenWebSocketErrorEvent*, void* self) {
    static_cast<SignalSocket*>(self)->on_event_(std::string("error"),
                                                error_text("signaling socket error"));
    return EM_TRUE;
  }

  static EM_BOOL on_close(int, const EmscriptenWebSocketCloseEvent* e, void* self) {
    auto* s = static_cast<SignalSocket*>(self);
    s->open_ = false;
    s->closed_ = true;
    val detail = val::object();
    detail.set("code", e->code);
    detail.set("reason", std::string(e->reason));
    s->on_event_(std::string("close"), detail);
    return EM_TRUE;
  }

  // Closing a socket still connecting makes Firefox log "can't establish a connection" as a
  // console error the site would not have: such a socket is left to connect, then closed,
  // with callbacks that no longer reach `this` (which may be gone).
  static void linger(EMSCRIPTEN_WEBSOCKET_T socket) {
    emscripten_websocket_set_onopen_callback(socket, nullptr, &close_lingering);
    emscripten_websocket_set_onmessage_callback(socket, nullptr, &ignore_message);
    emscripten_websocket_set_onerror_callback(socket, nullptr, &ignore_error);
    emscripten_websocket_set_onclose_callback(socket, nullptr, &delete_lingering);
  }

  static EM_BOOL close_lingering(int, const EmscriptenWebSocketOpenEvent* e, void*) {
    emscripten_websocket_close(e->socket, 1000, "gone");
    emscripten_websocket_delete(e->socket);
    return EM_TRUE;
  }

  static EM_BOOL delete_lingering(int, const EmscriptenWebSocketCloseEvent* e, void*) {
    emscripten_websocket_delete(e->socket);
    return EM_TRUE;
  }

  static EM_BOOL ignore_message(int, const EmscriptenWebSocketMessageEvent*, void*) {
    return EM_TRUE;
  }

  static EM_BOOL ignore_error(int, const EmscriptenWebSocketErrorEvent*, void*) { return EM_TRUE; }

  bool fail(const std::string& text) {
    on_event_(std::string("error"), error_text(text));
    return false;
  }

  static val error_text(const std::string& text) {
    val o = val::object();
    o.set("error", "socket");
    o.set("message", text);
    return o;
  }

  std::string url_;
  val on_event_;
  EMSCRIPTEN_WEBSOCKET_T socket_ = 0;
  bool open_ = false;
  bool closed_ = false;  // the browser said close: nothing will come, not even for a linger
};

}  // namespace
}  // namespace p2pcdn::js

EMSCRIPTEN_BINDINGS(p2pcdn_signal_socket) {
  using namespace emscripten;
  using p2pcdn::js::SignalSocket;
  class_<SignalSocket>("SignalSocket")
      .constructor<std::string, val>()
      .function("open", &SignalSocket::open)
      .function("send", &SignalSocket::send)
      .function("close", &SignalSocket::close)
      .function("isOpen", &SignalSocket::is_open);
}

// Structured logs, one logfmt line per event on stderr:
//   ts=2026-11-25T15:00:00.123Z level=info event=peer_joined peer=... site=...
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace p2pcdn::server {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

LogLevel parse_log_level(std::string_view name);  // unknown names mean info

class Logger {
 public:
  using Field = std::pair<std::string_view, std::string>;
  explicit Logger(LogLevel level = LogLevel::kInfo) : level_(level) {}

  bool enabled(LogLevel level) const { return level >= level_; }
  void log(LogLevel level, std::string_view event, std::initializer_list<Field> fields = {}) const;
  // An access log line (event=access, level info), written whatever the level: the operator
  // asked for them with --access-log. The caller tests that flag before building fields.
  void access(std::initializer_list<Field> fields) const;

 private:
  void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields) const;

  LogLevel level_;
};

}  // namespace p2pcdn::server

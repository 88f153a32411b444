#include "log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace p2pcdn::server {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Values with spaces, quotes or '=' are quoted so each line stays machine-readable.
void append_value(std::string& line, std::string_view value) {
  const bool quote = value.empty() || value.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!quote) {
    line.append(value);
    return;
  }
  line.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') line.push_back('\\');
    line.push_back(c == '\n' ? ' ' : c);
  }
  line.push_back('"');
}

}  // namespace

LogLevel parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

void Logger::log(LogLevel level, std::string_view event,
                 std::initializer_list<Field> fields) const {
  if (enabled(level)) write(level, event, fields);
}

void Logger::access(std::initializer_list<Field> fields) const {
  write(LogLevel::kInfo, "access", fields);
}

void Logger::write(LogLevel level, std::string_view event,
                   std::initializer_list<Field> fields) const {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms));
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += level_name(level);
  line += " event=";
  line.append(event);
  for (const auto& [key, value] : fields) {
    line.push_back(' ');
    line.append(key);
    line.push_back('=');
    append_value(line, value);
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace p2pcdn::server

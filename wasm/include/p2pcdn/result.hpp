// A value or an error code: what every fallible core call returns instead of throwing,
// so a malformed frame or a lying peer never unwinds through JS or the server.
#pragma once
#include <optional>
#include <utility>

#include "p2pcdn/errc.hpp"

namespace p2pcdn {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Errc error) : error_(error) {}          // NOLINT: implicit by design

  bool ok() const { return error_ == Errc::kOk; }
  explicit operator bool() const { return ok(); }
  Errc error() const { return error_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Errc error_ = Errc::kOk;
};

}  // namespace p2pcdn

// Crypto++ normally instantiates some templates (AllocatorWithCleanup<byte>, StringSink,
// AlgorithmParametersTemplate<...>) in files we do not compile when building it piecemeal;
// this macro makes the headers instantiate them here.
#define CRYPTOPP_MANUALLY_INSTANTIATE_TEMPLATES
#include "algparam.h"
#include "filters.h"
#include "misc.h"
#include "secblock.h"

namespace CryptoPP {
// Defined in integer.cpp (big-number arithmetic, which SHA-256 and the hex/base64 filters
// never need). It only converts int parameters for code that asks for an Integer; none
// of ours does, so "not converted" is the truthful answer.
bool AssignIntToInteger(const std::type_info&, void*, const void*) {
  return false;
}

// Also defined in integer.cpp; the same algorithm. cryptlib.cpp formats sizes with
// IntToString(size_t) in its error messages: where size_t is word64 (native 64-bit builds,
// see bench/CMakeLists.txt) that is this specialization; wasm32 uses the generic template.
template <>
std::string IntToString<word64>(word64 value, unsigned int base) {
  static const unsigned int kHighBit = 1U << 31;  // set in base: uppercase digits
  const char ch = (base & kHighBit) ? 'A' : 'a';
  base &= ~kHighBit;
  if (value == 0) return "0";
  std::string result;
  while (value > 0) {
    const word64 digit = value % base;
    result = char((digit < 10 ? '0' : (ch - 10)) + digit) + result;
    value /= base;
  }
  return result;
}
}  // namespace CryptoPP

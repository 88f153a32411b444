// Crypto++ normally instantiates some templates (AllocatorWithCleanup<byte>, StringSink,
// AlgorithmParametersTemplate<...>) in files we do not compile when building it piecemeal;
// this macro makes the headers instantiate them here.
#define CRYPTOPP_MANUALLY_INSTANTIATE_TEMPLATES
#include "algparam.h"
#include "filters.h"
#include "secblock.h"

namespace CryptoPP {
// Defined in integer.cpp (big-number arithmetic, which SHA-256 and the hex/base64 filters
// never need). It only converts int parameters for code that asks for an Integer; none
// of ours does, so "not converted" is the truthful answer.
bool AssignIntToInteger(const std::type_info&, void*, const void*) {
  return false;
}
}  // namespace CryptoPP

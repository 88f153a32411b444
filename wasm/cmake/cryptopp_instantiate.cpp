// Without this, AllocatorWithCleanup<byte>::allocate is missing when Crypto++ is built
// piecemeal (it is normally instantiated in a file we do not compile).
#define CRYPTOPP_MANUALLY_INSTANTIATE_TEMPLATES
#include "secblock.h"

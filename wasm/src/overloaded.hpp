// std::visit helper: one lambda per alternative.
#pragma once

namespace p2pcdn {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace p2pcdn

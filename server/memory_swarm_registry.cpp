#include "memory_swarm_registry.hpp"

#include <algorithm>

namespace p2pcdn::server {

MemorySwarmRegistry::MemorySwarmRegistry()
    : MemorySwarmRegistry(uint64_t{std::random_device{}()} << 32 | std::random_device{}()) {}

MemorySwarmRegistry::MemorySwarmRegistry(uint64_t seed) : random_(seed) {}

void MemorySwarmRegistry::join(const PeerId& peer, const std::string& swarm) {
  leave(peer);
  SwarmEntry& entry = *swarms_.try_emplace(swarm).first;
  ++entry.second.members;
  peers_[peer].swarm = &entry;
}

void MemorySwarmRegistry::leave(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  while (!p.positions.empty()) remove_holder(p, p.positions.begin()->first);
  if (--p.swarm->second.members == 0) swarms_.erase(swarms_.find(p.swarm->first));
  peers_.erase(it);
}

AnnounceResult MemorySwarmRegistry::announce(const PeerId& peer, const std::vector<ResourceId>& ids,
                                             size_t max_per_peer, std::vector<ResourceId>* added) {
  AnnounceResult result;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return result;
  Peer& p = it->second;
  // libstdc++ gives a map 13 buckets on its first insert; most peers hold a few ids.
  if (p.positions.empty()) p.positions.reserve(std::min(ids.size(), max_per_peer));
  for (const ResourceId& id : ids) {
    if (p.positions.count(id) != 0) continue;
    if (p.positions.size() >= max_per_peer) {
      ++result.refused;
      continue;
    }
    Holders& h = p.swarm->second.resources[id];
    p.positions.emplace(id, static_cast<uint32_t>(h.peers.size()));
    h.peers.push_back(peer);
    if (added != nullptr) added->push_back(id);
    ++result.added;
    ++announcements_;
  }
  return result;
}

size_t MemorySwarmRegistry::withdraw(const PeerId& peer, const std::vector<ResourceId>& ids,
                                     std::vector<ResourceId>* removed_ids) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return 0;
  size_t removed = 0;
  for (const ResourceId& id : ids) {
    if (it->second.positions.count(id) == 0) continue;
    remove_holder(it->second, id);
    if (removed_ids != nullptr) removed_ids->push_back(id);
    ++removed;
  }
  return removed;
}

std::vector<ResourceId> MemorySwarmRegistry::held(const PeerId& peer) const {
  std::vector<ResourceId> ids;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return ids;
  ids.reserve(it->second.positions.size());
  for (const auto& [id, position] : it->second.positions) ids.push_back(id);
  return ids;
}

void MemorySwarmRegistry::remove_holder(Peer& peer, ResourceId resource) {
  auto pos_it = peer.positions.find(resource);
  const uint32_t pos = pos_it->second;
  peer.positions.erase(pos_it);
  --announcements_;
  Swarm& swarm = peer.swarm->second;
  auto res_it = swarm.resources.find(resource);
  std::vector<PeerId>& holders = res_it->second.peers;
  if (pos + 1 != holders.size()) {
    holders[pos] = holders.back();
    peers_.at(holders[pos]).positions.at(resource) = pos;  // the moved holder's new place
  }
  holders.pop_back();
  if (holders.empty()) swarm.resources.erase(res_it);
}

std::vector<PeerId> MemorySwarmRegistry::lookup(const PeerId& asker, const ResourceId& resource,
                                                size_t k) {
  std::vector<PeerId> found;
  auto it = peers_.find(asker);
  if (it == peers_.end()) return found;
  auto& resources = it->second.swarm->second.resources;
  auto res_it = resources.find(resource);
  if (res_it == resources.end()) return found;
  std::vector<PeerId>& holders = res_it->second.peers;
  // The asker, if it holds the resource, goes last and is left out of the draw.
  size_t candidates = holders.size();
  auto own = it->second.positions.find(resource);
  if (own != it->second.positions.end()) swap_holders(holders, resource, own->second, --candidates);
  // Partial Fisher-Yates: place i gets a uniform pick among places i..candidates-1, so the
  // first k places are a uniform sample in random order, whatever order the list was in.
  k = std::min(k, candidates);
  found.reserve(k);
  for (size_t i = 0; i < k; ++i) {
    std::uniform_int_distribution<size_t> pick(i, candidates - 1);
    swap_holders(holders, resource, i, pick(random_));
    found.push_back(holders[i]);
  }
  return found;
}

// Swaps two places in a holder list, keeping each holder's remembered position right.
void MemorySwarmRegistry::swap_holders(std::vector<PeerId>& holders, const ResourceId& resource,
                                       size_t a, size_t b) {
  if (a == b) return;
  std::swap(holders[a], holders[b]);
  peers_.at(holders[a]).positions.at(resource) = static_cast<uint32_t>(a);
  peers_.at(holders[b]).positions.at(resource) = static_cast<uint32_t>(b);
}

bool MemorySwarmRegistry::same_swarm(const PeerId& a, const PeerId& b) const {
  auto ia = peers_.find(a);
  auto ib = peers_.find(b);
  return ia != peers_.end() && ib != peers_.end() && ia->second.swarm == ib->second.swarm;
}

}  // namespace p2pcdn::server

// A small, portable random generator (splitmix64): the same stream on every platform and
// library version, so masking and sampling decisions are reproducible and testable.
#pragma once
#include <cstdint>

namespace lntune {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  // Seeds from several values (e.g. run seed and step), mixed so nearby tuples differ fully.
  Rng(uint64_t a, uint64_t b) : s_(a) { s_ = next() ^ (b * 0x9E3779B97F4A7C15ull); }
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

 private:
  uint64_t s_;
};

}  // namespace lntune

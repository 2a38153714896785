// Random bits: xoshiro256++ (Blackman & Vigna 2019) seeded through
// splitmix64, and the seed derivation that gives every frame of every
// channel its own stream. Because a frame's stream depends only on (seed,
// channel, frame), frames can be rendered in any order, on any thread, in
// chunks of any size, and come out bit-identical.
#pragma once

#include <cstdint>

namespace sim {

inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A well-mixed 64-bit value of (a, b): distinct inputs give unrelated outputs.
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
    uint64_t s = a;
    const uint64_t h = splitmix64(s);
    s = h ^ (b * 0xd6e8feb86659fd93ull);
    return splitmix64(s);
}

// The independent streams of one movie.
enum class Stream : uint64_t {
    Dynamics = 1,       // births, deaths, motion, blinking, per-emitter brightness
    Calcium = 2,        // calcium brightness and transients
    MovieFrame = 3,     // photon, electron and read noise of channel 0, per frame
    CalciumFrame = 4,   // the same for channel 1
    TrackCount = 5      // the movie's track count, when it is drawn
};

inline uint64_t stream_seed(uint64_t seed, Stream stream, uint64_t index = 0) {
    return mix_seed(mix_seed(seed, static_cast<uint64_t>(stream)), index);
}

class Xoshiro256pp {
public:
    explicit Xoshiro256pp(uint64_t seed) {
        for (auto& w : s_) w = splitmix64(seed);
    }
    uint64_t next() {
        const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform on [0, 1), 53 bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform on (0, 1]: safe under log().
    double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

using Rng = Xoshiro256pp;

} // namespace sim

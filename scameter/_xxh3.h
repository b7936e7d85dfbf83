/* scameter/_xxh3.h: XXH3-64 (seed 0, the default secret) of inputs up to 240 bytes, for the
 * optional C extensions; a header only, included by each .c file that hashes keys.
 *
 * Snapshot keys are xxh3_64 of a tag byte and a canonical value, big-endian
 * (scameter/identifiers/model.py), and the near-match variant keys the same of a namespace and
 * a deletion variant (scameter/index/near.py). The Python side computes them with the xxhash
 * package; these extensions compute the same values without a Python call per key. Written
 * from the XXH3 specification (Cyan4973/xxHash, doc/xxhash_spec.md: "XXH3 Algorithm
 * Description" for small and medium inputs, the default secret, seed 0); the property tests
 * compare every caller with xxhash.xxh3_64_digest. Longer inputs are not handled here:
 * callers fall back to Python for them.
 */
#ifndef SCAMETER_XXH3_H
#define SCAMETER_XXH3_H

#include <stddef.h>
#include <stdint.h>

#define XXH3_MAX_INPUT 240

static const unsigned char XXH3_SECRET[192] = {
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

#define XXH3_PRIME32_1 0x9E3779B1U
#define XXH3_PRIME64_1 0x9E3779B185EBCA87ULL
#define XXH3_PRIME64_2 0xC2B2AE3D27D4EB4FULL
#define XXH3_PRIME64_3 0x165667B19E3779F9ULL
#define XXH3_PRIME_MX1 0x165667919E3779F9ULL
#define XXH3_PRIME_MX2 0x9FB21C651E98DF25ULL

static inline uint32_t
xxh3_read32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
xxh3_read64(const unsigned char *p)
{
    return (uint64_t)xxh3_read32(p) | (uint64_t)xxh3_read32(p + 4) << 32;
}

static inline uint64_t
xxh3_bswap64(uint64_t x)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++) {
        r = r << 8 | (x & 0xFF);
        x >>= 8;
    }
    return r;
}

static inline uint64_t
xxh3_rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* The low and high halves of the 128-bit product a * b, folded by xor. */
static inline uint64_t
xxh3_mul128_fold64(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32, b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFFu) + lo_hi;
    uint64_t upper = (hi_lo >> 32) + (cross >> 32) + hi_hi;
    uint64_t lower = (cross << 32) | (lo_lo & 0xFFFFFFFFu);
    return lower ^ upper;
#endif
}

static inline uint64_t
xxh3_avalanche(uint64_t x)
{
    x ^= x >> 37;
    x *= XXH3_PRIME_MX1;
    return x ^ (x >> 32);
}

static inline uint64_t
xxh3_avalanche_xxh64(uint64_t x)
{
    x ^= x >> 33;
    x *= XXH3_PRIME64_2;
    x ^= x >> 29;
    x *= XXH3_PRIME64_3;
    return x ^ (x >> 32);
}

/* The specification's mixStep with seed 0. */
static inline uint64_t
xxh3_mix16(const unsigned char *data, const unsigned char *secret)
{
    return xxh3_mul128_fold64(xxh3_read64(data) ^ xxh3_read64(secret),
                              xxh3_read64(data + 8) ^ xxh3_read64(secret + 8));
}

/* XXH3-64 of 9..16 bytes. */
static inline uint64_t
xxh3_9to16(const unsigned char *in, size_t len)
{
    const unsigned char *s = XXH3_SECRET;
    uint64_t low = (xxh3_read64(s + 24) ^ xxh3_read64(s + 32)) ^ xxh3_read64(in);
    uint64_t high = (xxh3_read64(s + 40) ^ xxh3_read64(s + 48)) ^ xxh3_read64(in + len - 8);
    uint64_t acc = (uint64_t)len + xxh3_bswap64(low) + high + xxh3_mul128_fold64(low, high);
    return xxh3_avalanche(acc);
}

/* XXH3-64 of 0..240 bytes (len <= XXH3_MAX_INPUT: the caller checks). */
static inline uint64_t
xxh3_64(const unsigned char *in, size_t len)
{
    const unsigned char *s = XXH3_SECRET;
    if (len == 0) {
        return xxh3_avalanche_xxh64(xxh3_read64(s + 56) ^ xxh3_read64(s + 64));
    }
    if (len <= 3) {
        uint32_t combined = (uint32_t)in[len - 1] | (uint32_t)len << 8 | (uint32_t)in[0] << 16 |
                            (uint32_t)in[len >> 1] << 24;
        uint64_t value = (uint64_t)(xxh3_read32(s) ^ xxh3_read32(s + 4)) ^ combined;
        return xxh3_avalanche_xxh64(value);
    }
    if (len <= 8) {
        uint64_t combined = (uint64_t)xxh3_read32(in + len - 4) | (uint64_t)xxh3_read32(in) << 32;
        uint64_t value = (xxh3_read64(s + 8) ^ xxh3_read64(s + 16)) ^ combined;
        value ^= xxh3_rotl64(value, 49) ^ xxh3_rotl64(value, 24);
        value *= XXH3_PRIME_MX2;
        value ^= (value >> 35) + len;
        value *= XXH3_PRIME_MX2;
        return value ^ (value >> 28);
    }
    if (len <= 16) {
        return xxh3_9to16(in, len);
    }
    uint64_t acc = (uint64_t)len * XXH3_PRIME64_1;
    if (len <= 128) {
        size_t rounds = ((len - 1) >> 5) + 1;
        for (size_t i = 0; i < rounds; i++) {
            acc += xxh3_mix16(in + 16 * i, s + 32 * i);
            acc += xxh3_mix16(in + len - 16 * i - 16, s + 32 * i + 16);
        }
        return xxh3_avalanche(acc);
    }
    size_t chunks = len >> 4;
    for (size_t i = 0; i < 8; i++) {
        acc += xxh3_mix16(in + 16 * i, s + 16 * i);
    }
    acc = xxh3_avalanche(acc);
    for (size_t i = 8; i < chunks; i++) {
        acc += xxh3_mix16(in + 16 * i, s + 16 * (i - 8) + 3);
    }
    acc += xxh3_mix16(in + len - 16, s + 119);
    return xxh3_avalanche(acc);
}

#endif /* SCAMETER_XXH3_H */

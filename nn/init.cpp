// nn/init.cpp — the initialisers: thin wrappers over Rng that check their arguments.
#include "nn/init.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace s2a {

Tensor init_normal(const Shape& shape, Real std, Rng& rng) {
    if (!(std >= 0)) throw std::invalid_argument(fmt::format("init_normal: std must be >= 0, got {}", std));
    return randn(shape, rng, std);
}

Tensor init_uniform(const Shape& shape, Real bound, Rng& rng) {
    if (!(bound >= 0)) throw std::invalid_argument(fmt::format("init_uniform: bound must be >= 0, got {}", bound));
    return rand_uniform(shape, rng, -bound, bound);
}

Tensor init_xavier(const Shape& shape, Rng& rng) {
    if (shape.ndim != 2 || shape[0] <= 0 || shape[1] <= 0)
        throw std::invalid_argument(fmt::format("init_xavier: needs a 2-D shape (fan_in, fan_out), got {}", shape.str()));
    // U(-a, a) has variance a² / 3; setting it to 2 / (fan_in + fan_out) gives a = √(6 / (fan_in + fan_out)).
    const Real a = static_cast<Real>(std::sqrt(6.0 / (shape[0] + shape[1])));
    return init_uniform(shape, a, rng);
}

Tensor init_zeros(const Shape& shape) { return Tensor(shape, 0); }

}  // namespace s2a

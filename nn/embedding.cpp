// nn/embedding.cpp — the lookup table; the work (gather forward, scatter-add backward) is the embedding op.
#include "nn/embedding.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"
#include "nn/init.h"

namespace s2a {

Embedding::Embedding(int vocab_size, int dim_size, Rng& rng) : vocab(vocab_size), dim(dim_size) {
    if (vocab <= 0 || dim <= 0)
        throw std::invalid_argument(fmt::format("Embedding: sizes must be positive, got vocab = {}, dim = {}", vocab, dim));
    W = add_parameter("W", init_normal(Shape{vocab, dim}, static_cast<Real>(1 / std::sqrt(double(dim))), rng));
}

Var Embedding::forward(const IndexTensor& ids) const { return embedding(W, ids); }  // (S..., D)

}  // namespace s2a

// nn/init.h — seeded initial values for parameters.
//
// Training starts from these numbers, so their scale matters: too small and the signal (and its gradient)
// fades layer by layer, too large and tanh and sigmoid saturate, their derivatives vanish, and nothing
// learns. Each initialiser draws from an Rng, so a seed fixes a model's starting point on every platform.
//
// Which layer uses which, and why:
//   init_xavier   Linear's weight W (in, out). Uniform on ±√(6 / (fan_in + fan_out)), whose variance is
//                 2 / (fan_in + fan_out): the compromise (Glorot & Bengio, 2010) between keeping the
//                 variance of the activations constant going forward (Var W = 1 / fan_in) and that of
//                 the gradients constant going backward (Var W = 1 / fan_out), for tanh-like layers.
//   init_normal   Embedding's table W (V, D) with std 1/√D: a row is looked up, not summed over V
//                 inputs, so fan-in rules do not apply; std 1/√D gives every row an expected length of 1,
//                 whatever D (see nn/embedding.h).
//   init_uniform  the classic choice for recurrent layers: ±1/√H for hidden size H (what PyTorch's LSTM
//                 and GRU do); also the building block of init_xavier.
//   init_zeros    biases: the weights already break the symmetry between units, so biases can start at 0.
#pragma once

#include "autodiff/tensor.h"

namespace s2a {

// Every element drawn from N(0, std²).
Tensor init_normal(const Shape& shape, Real std, Rng& rng);
// Every element drawn from U(-bound, bound); the variance is bound² / 3.
Tensor init_uniform(const Shape& shape, Real bound, Rng& rng);
// shape must be 2-D (fan_in, fan_out); elements from U(-a, a) with a = √(6 / (fan_in + fan_out)).
Tensor init_xavier(const Shape& shape, Rng& rng);
// All zeros.
Tensor init_zeros(const Shape& shape);

}  // namespace s2a

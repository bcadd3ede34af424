// tests/op_cases.cpp — for every op, a few seeded random shapes and the function gradcheck runs on them; and
// for every fused kernel, the same beside its op-by-op reference, with the check of the pair.
//
// Dimensions: B batch, T time steps (Tq queries, Tk keys, S source steps), D input features or d_model,
// H hidden units, A additive size, V vocabulary.
#include "tests/op_cases.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autodiff/ops.h"
#include "nn/attention.h"
#include "nn/fused_additive_scores.h"
#include "nn/fused_attention.h"
#include "nn/fused_lstm.h"
#include "nn/lstm.h"
#include "nn/transformer.h"

namespace s2a {

namespace {

// Fixed ids with repeats (so the scatter-add's accumulation is exercised) and one ignored target.
IndexTensor ids_for(const Shape& s, int V, uint64_t seed) {
    IndexTensor ids(s);
    Rng rng(seed);
    for (int64_t i = 0; i < ids.numel(); ++i) ids[i] = rng.randint(V);
    return ids;
}

// A mask (1 keep, 0 masked) of shape s with about a third masked and its first row masked entirely.
Tensor mask_for(const Shape& s, uint64_t seed) {
    Tensor m(s, 1);
    Rng rng(seed);
    for (Real& v : m.data) v = rng.uniform() < 0.33 ? 0 : 1;
    for (int i = 0; i < s[-1]; ++i) m[i] = 0;
    return m;
}

// The LSTM's outputs side by side, so one gradient check covers them all: hs (B, T, H) and c (B, H) →
// (B, T·H + H).
Var lstm_outputs(const Var& hs, const Var& c) {
    return concat({reshape(hs, Shape{hs.dim(0), hs.dim(1) * hs.dim(2)}), c}, 1);
}

// (B, T, D) → (B, h, T, dk): head j's columns as its own (T, dk) matrix, as MultiHeadAttention::forward_reference
// splits them.
Var split_heads(const Var& x, int heads) {
    return permute(reshape(x, Shape{x.dim(0), x.dim(1), heads, x.dim(2) / heads}), {0, 2, 1, 3});
}

// max |a - b| over the elements of two tensors of one shape (infinity if the shapes differ).
double max_abs_diff(const Tensor& a, const Tensor& b) {
    if (a.shape != b.shape) return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
    return m;
}

}  // namespace

std::vector<OpCase> op_cases() {
    std::vector<OpCase> cases;
    auto add_case = [&](std::string op, std::string variant, std::vector<Shape> shapes,
                        std::function<Var(const std::vector<Var>&)> f, bool positive = false) {
        cases.push_back({std::move(op), std::move(variant), std::move(shapes), std::move(f), positive});
    };
    Rng rng(2024);
    auto d = [&] { return 1 + rng.randint(4); };  // a random dimension 1..4

    for (int rep = 0; rep < 2; ++rep) {
        const int M = d() + 1, N = d() + 1, K = d() + 1, B = d() + 1, T = d() + 1, H = d() + 1;
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
                const std::string v = fmt::format("trans_a={} trans_b={}", ta, tb);
                add_case("matmul", v, {ta ? Shape{K, M} : Shape{M, K}, tb ? Shape{N, K} : Shape{K, N}},
                         [ta, tb](const std::vector<Var>& x) { return matmul(x[0], x[1], ta, tb); });
                add_case("bmm", v, {ta ? Shape{B, K, M} : Shape{B, M, K}, tb ? Shape{B, N, K} : Shape{B, K, N}},
                         [ta, tb](const std::vector<Var>& x) { return bmm(x[0], x[1], ta, tb); });
            }

        add_case("matmul", "(B, T, K) · (K, N)", {Shape{B, T, K}, Shape{K, N}},
                 [](const std::vector<Var>& x) { return matmul(x[0], x[1]); });
        add_case("matmul", "(B, T, K) · (N, K)ᵀ", {Shape{B, T, K}, Shape{N, K}},
                 [](const std::vector<Var>& x) { return matmul(x[0], x[1], false, true); });
        add_case("linear", "(M, K) · (K, N) + (N)", {Shape{M, K}, Shape{K, N}, Shape{N}},
                 [](const std::vector<Var>& x) { return linear(x[0], x[1], x[2]); });
        add_case("linear", "(B, T, K) · (K, N) + (N)", {Shape{B, T, K}, Shape{K, N}, Shape{N}},
                 [](const std::vector<Var>& x) { return linear(x[0], x[1], x[2]); });

        // Broadcasting variants shared by the four arithmetic ops.
        const std::vector<std::pair<std::string, std::vector<Shape>>> pairs = {
            {"same shape", {Shape{B, H}, Shape{B, H}}},
            {"bias (H)", {Shape{B, T, H}, Shape{H}}},
            {"scalar ()", {Shape{B, H}, Shape{}}},
            {"(B, T, 1) and (B, T, H)", {Shape{B, T, 1}, Shape{B, T, H}}},
            {"(B, 1, T) and (B, H, 1)", {Shape{B, 1, T}, Shape{B, H, 1}}},
        };
        for (const auto& [v, shapes] : pairs) {
            add_case("add", v, shapes, [](const std::vector<Var>& x) { return x[0] + x[1]; });
            add_case("sub", v, shapes, [](const std::vector<Var>& x) { return x[0] - x[1]; });
            add_case("mul", v, shapes, [](const std::vector<Var>& x) { return x[0] * x[1]; });
            add_case("div", v, shapes, [](const std::vector<Var>& x) { return x[0] / x[1]; }, true);
        }
        // a used twice: the tape must add both contributions
        add_case("mul", "x · x (reuse)", {Shape{B, H}}, [](const std::vector<Var>& x) { return x[0] * x[0]; });

        const Shape s{B, T, H};
        add_case("neg", s.str(), {s}, [](const std::vector<Var>& x) { return neg(x[0]); });
        add_case("scale", s.str(), {s}, [](const std::vector<Var>& x) { return scale(x[0], Real(-2.5)); });
        add_case("tanh", s.str(), {s}, [](const std::vector<Var>& x) { return tanh(x[0]); });
        add_case("sigmoid", s.str(), {s}, [](const std::vector<Var>& x) { return sigmoid(x[0]); });
        add_case("relu", s.str(), {s}, [](const std::vector<Var>& x) { return relu(x[0]); });
        add_case("exp", s.str(), {s}, [](const std::vector<Var>& x) { return exp(x[0]); });
        add_case("log", s.str(), {s}, [](const std::vector<Var>& x) { return log(x[0]); }, true);

        add_case("sum", "all", {s}, [](const std::vector<Var>& x) { return sum(x[0]); });
        add_case("mean", "all", {s}, [](const std::vector<Var>& x) { return mean(x[0]); });
        for (int axis = 0; axis < 3; ++axis)
            for (int keep = 0; keep < 2; ++keep) {
                const std::string v = fmt::format("axis {}{}", axis, keep ? " keepdim" : "");
                add_case("sum", v, {s}, [axis, keep](const std::vector<Var>& x) { return sum(x[0], axis, keep); });
                add_case("mean", v, {s}, [axis, keep](const std::vector<Var>& x) { return mean(x[0], axis, keep); });
            }

        add_case("reshape", "(B, T, H) → (B·T, H)", {s},
                 [B, T, H](const std::vector<Var>& x) { return reshape(x[0], Shape{B * T, H}); });
        add_case("transpose", "2-D", {Shape{M, N}}, [](const std::vector<Var>& x) { return transpose(x[0]); });
        add_case("transpose", "3-D", {s}, [](const std::vector<Var>& x) { return transpose(x[0]); });
        add_case("permute", "(0, 2, 1, 3)", {Shape{B, T, 2, H}},
                 [](const std::vector<Var>& x) { return permute(x[0], {0, 2, 1, 3}); });
        add_case("permute", "(2, 0, 1)", {s}, [](const std::vector<Var>& x) { return permute(x[0], {2, 0, 1}); });

        for (int axis = 0; axis < 3; ++axis) {
            Shape s2 = s;
            s2[axis] += 1;
            add_case("concat", fmt::format("axis {}", axis), {s, s2, s},
                     [axis](const std::vector<Var>& x) { return concat(x, axis); });
            add_case("slice", fmt::format("axis {}", axis), {s2},
                     [axis](const std::vector<Var>& x) { return slice(x[0], axis, 1, x[0].dim(axis)); });
            add_case("select", fmt::format("axis {}", axis), {s},
                     [axis](const std::vector<Var>& x) { return select(x[0], axis, x[0].dim(axis) - 1); });
            add_case("stack", fmt::format("axis {}", axis), {s, s}, [axis](const std::vector<Var>& x) { return stack(x, axis); });
        }
        add_case("stack", "axis 3 (new last)", {s, s, s}, [](const std::vector<Var>& x) { return stack(x, 3); });

        const int V = d() + 3;
        const IndexTensor ids = ids_for(Shape{B, T + 2}, V, 7 + rep);
        add_case("embedding", "ids (B, T)", {Shape{V, H}}, [ids](const std::vector<Var>& x) { return embedding(x[0], ids); });

        add_case("softmax", "last axis", {s}, [](const std::vector<Var>& x) { return softmax(x[0]); });
        const Tensor mask = mask_for(s, 11 + rep), key_mask = mask_for(Shape{B, 1, H}, 13 + rep);
        add_case("softmax", "mask (B, T, H), one row all masked", {s},
                 [mask](const std::vector<Var>& x) { return softmax(x[0], mask); });
        add_case("softmax", "mask (B, 1, H) broadcast", {s},
                 [key_mask](const std::vector<Var>& x) { return softmax(x[0], key_mask); });
        add_case("log_softmax", "last axis", {s}, [](const std::vector<Var>& x) { return log_softmax(x[0]); });

        IndexTensor targets = ids_for(Shape{B, T}, V, 17 + rep);
        targets[0] = -1;  // one padding position, ignored
        add_case("cross_entropy", "ignore_index -1", {Shape{B, T, V}},
                 [targets](const std::vector<Var>& x) { return cross_entropy(x[0], targets, -1); });
        add_case("cross_entropy", "label smoothing 0.1", {Shape{B, T, V}},
                 [targets](const std::vector<Var>& x) { return cross_entropy(x[0], targets, -1, Real(0.1)); });

        add_case("layer_norm", "(B, T, H+1)", {Shape{B, T, H + 1}, Shape{H + 1}, Shape{H + 1}},
                 [](const std::vector<Var>& x) { return layer_norm(x[0], x[1], x[2]); });
        // 21 rows: the kernels' blocks of 8 rows side by side (one in each half of the backward) and a tail of 5.
        add_case("layer_norm", "(3, 7, H+1): blocks of 8 rows and a tail", {Shape{3, 7, H + 1}, Shape{H + 1}, Shape{H + 1}},
                 [](const std::vector<Var>& x) { return layer_norm(x[0], x[1], x[2]); });
        // The same mask on every call (a fresh generator with a fixed seed), as gradcheck requires.
        add_case("dropout", "p 0.3, fixed mask", {s}, [rep](const std::vector<Var>& x) {
            Rng mask_rng(99 + rep);
            return dropout(x[0], Real(0.3), mask_rng, true);
        });

        // Images (B, Hi, Wi, C), channels last: fields reaching into the padding, strides that skip pixels,
        // overlapping pooling windows (a pixel can win two).
        add_case("im2col", "3×3, stride 2, padding 1", {Shape{B, 5, 4, 2}},
                 [](const std::vector<Var>& x) { return im2col(x[0], 3, 3, 2, 1); });
        add_case("conv2d", "3×3, stride 1, padding 1", {Shape{B, 5, 4, 2}, Shape{3, 3, 2, 3}, Shape{3}},
                 [](const std::vector<Var>& x) { return conv2d(x[0], x[1], x[2], 1, 1); });
        add_case("conv2d", "2×3, stride 2, padding 0", {Shape{B, 6, 5, 2}, Shape{2, 3, 2, 3}, Shape{3}},
                 [](const std::vector<Var>& x) { return conv2d(x[0], x[1], x[2], 2, 0); });
        add_case("max_pool2d", "2×2, stride 2", {Shape{B, 4, 6, H}}, [](const std::vector<Var>& x) { return max_pool2d(x[0], 2, 2); });
        add_case("max_pool2d", "3×3, stride 2 (overlapping)", {Shape{B, 5, 5, 2}},
                 [](const std::vector<Var>& x) { return max_pool2d(x[0], 3, 2); });

        // conv1d: x (B, S, Cin), w (K, Cin, Cout); an odd K pads both sides equally, an even K one more on the right.
        for (int K : {3, 2})
            add_case("conv1d", fmt::format("K {}, x (B, S, Cin), w (K, Cin, Cout)", K), {Shape{B, T + 1, H}, Shape{K, H, M}},
                     [](const std::vector<Var>& x) { return conv1d(x[0], x[1]); });

        // copy_mixture from the inputs the pointer-generator gives it: log_softmax of logits (B, T, V), the masked
        // softmax of scores (B, T, S), the gate's logit z (B, T, 1). Every row's source holds both extended words
        // (ids V and V+1) at real positions, so no P(w) is 0 and every element of log P (B, T, V+2) is finite;
        // position 3 of sentence 0 is padding (a V that copies nothing).
        const int S = 4;
        IndexTensor src(Shape{B, S});
        Tensor real(Shape{B, S}, 1);  // (B, S)
        for (int b = 0; b < B; ++b) {
            const int row[S] = {V, b % V, V + 1, b % 2 ? (b + 1) % V : V};  // V twice in even rows
            for (int s = 0; s < S; ++s) src[b * S + s] = row[s];
        }
        real[3] = 0;
        Tensor real_per_step = real;  // (B, 1, S): the softmax's mask, one row for every step
        real_per_step.shape = Shape{B, 1, S};
        add_case("copy_mixture", "W = V + 2, sentence 0 padded", {Shape{B, T, V}, Shape{B, T, S}, Shape{B, T, 1}},
                 [src, real, real_per_step, V](const std::vector<Var>& x) {
                     return copy_mixture(log_softmax(x[0]), softmax(x[1], real_per_step), x[2], src, V + 2, &real);
                 });
    }
    return cases;
}

std::vector<FusedCase> fused_cases() {
    using Fn = std::function<Var(const std::vector<Var>&)>;
    std::vector<FusedCase> cases;
    auto add_pair = [&](const std::string& fused_op, const std::string& reference_op, const std::string& where,
                        const std::string& variant, const std::vector<Shape>& shapes, Fn fused, Fn reference) {
        OpCase f{fused_op, variant, shapes, std::move(fused)};
        OpCase r{reference_op, variant, shapes, std::move(reference)};
        const uint64_t seed = 42 + cases.size();
        cases.push_back({std::move(f), std::move(r), where, seed});
    };
    Rng rng(2025);
    auto d = [&] { return 2 + rng.randint(3); };  // a random dimension 2..4

    // The LSTM's fused op (input projection and recurrence), as LSTM::forward runs it, against the reference cell looped
    // over T, as LSTM::forward_reference runs it. Inputs x (B, T, D), Wx (D, 4H), Wh (H, 4H), b (4H), h0, c0 (B, H).
    for (int rep = 0; rep < 2; ++rep) {
        const int B = d(), T = d(), D = d(), H = d();
        add_pair("lstm_recurrence", "lstm_cell_reference",
                 "nn/fused_lstm.cpp ↔ nn/lstm.cpp; tested in tests/test_rnn.cpp",
                 "x · Wx + b, T steps; hs and the last c",
                 {Shape{B, T, D}, Shape{D, 4 * H}, Shape{H, 4 * H}, Shape{4 * H}, Shape{B, H}, Shape{B, H}},
                 [](const std::vector<Var>& in) {
                     const LSTMRecurrence r = lstm_recurrence(in[0], in[1], in[3], in[2], in[4], in[5]);
                     return lstm_outputs(r.hs, r.c_last);
                 },
                 [](const std::vector<Var>& in) {
                     LSTMState s{in[4], in[5]};
                     std::vector<Var> hs;  // T tensors (B, H)
                     for (int t = 0; t < in[0].dim(1); ++t) {
                         s = lstm_cell_reference(select(in[0], 1, t), s, in[1], in[2], in[3]);
                         hs.push_back(s.h);
                     }
                     return lstm_outputs(stack(hs, 1), s.c);
                 });
    }

    // linear_relu, the feed-forward layer's first half in one node, against relu(linear(...)).
    for (int rep = 0; rep < 2; ++rep) {
        const int B = d(), T = d(), K = d(), N = d() + 2;
        add_pair("linear_relu", "relu ∘ linear", "autodiff/ops_linalg.cpp ↔ ops_pointwise.cpp; tested in tests/test_gradients.cpp",
                 "max(0, x · W + b), x (B, T, K)", {Shape{B, T, K}, Shape{K, N}, Shape{N}},
                 [](const std::vector<Var>& in) { return linear_relu(in[0], in[1], in[2]); },
                 [](const std::vector<Var>& in) { return relu(linear(in[0], in[1], in[2])); });
    }

    // linear_residual, a residual connection summed by the sublayer's last linear layer, against r + linear(...).
    for (int rep = 0; rep < 2; ++rep) {
        const int B = d(), T = d(), K = d(), N = d() + 2;
        add_pair("linear_residual", "add ∘ linear", "autodiff/ops_linalg.cpp ↔ ops_pointwise.cpp; tested in tests/test_gradients.cpp",
                 "r + (x · W + b), x (B, T, K), r (B, T, N)", {Shape{B, T, K}, Shape{K, N}, Shape{N}, Shape{B, T, N}},
                 [](const std::vector<Var>& in) { return linear_residual(in[0], in[1], in[2], in[3]); },
                 [](const std::vector<Var>& in) { return in[3] + linear(in[0], in[1], in[2]); });
    }

    // Multi-head attention on the projected q (B, Tq, D), k and v (B, Tk, D), against scaled_dot_product_attention
    // on the heads split by reshape and permute. Dropout draws from a fresh generator with a fixed seed, so every
    // call (and both paths) drops the same weights.
    for (int rep = 0; rep < 2; ++rep) {
        const int B = d(), Tq = d(), Tk = d(), heads = 2, D = heads * d();
        struct Variant {
            std::string name;
            Tensor mask;  // empty: no mask
            Real p;       // dropout
        };
        // mask_for masks its first row entirely: in (B, 1, 1, Tk) all of sentence 0's keys, in (B, 1, Tq, Tk)
        // sentence 0's first query row. Those rows must come out as zeros, never NaN.
        const std::vector<Variant> variants = {
            {"no mask", Tensor(), 0},
            {"mask (B, 1, 1, Tk), sentence 0 all masked", mask_for(Shape{B, 1, 1, Tk}, 23 + rep), 0},
            {"mask (B, 1, Tq, Tk), dropout 0.3", mask_for(Shape{B, 1, Tq, Tk}, 29 + rep), Real(0.3)},
        };
        for (const Variant& v : variants) {
            const uint64_t seed = 31 + rep;
            add_pair("multi_head_attention", "scaled_dot_product_attention",
                     "nn/fused_attention.cpp ↔ nn/transformer.cpp; tested in tests/test_transformer.cpp",
                     fmt::format("h {}, {}", heads, v.name), {Shape{B, Tq, D}, Shape{B, Tk, D}, Shape{B, Tk, D}},
                     [heads, mask = v.mask, p = v.p, seed](const std::vector<Var>& in) {
                         Rng drops(seed);
                         const Tensor* m = mask.empty() ? nullptr : &mask;
                         return multi_head_attention(in[0], in[1], in[2], heads, m, p, drops, p > 0);
                     },
                     [heads, mask = v.mask, p = v.p, seed](const std::vector<Var>& in) {
                         Rng drops(seed);
                         const Tensor* m = mask.empty() ? nullptr : &mask;
                         const Var o = scaled_dot_product_attention(split_heads(in[0], heads), split_heads(in[1], heads),
                                                                    split_heads(in[2], heads), m, nullptr, p, drops,
                                                                    p > 0);  // (B, h, Tq, dk)
                         return reshape(permute(o, {0, 2, 1, 3}), in[0].shape());              // (B, Tq, D)
                     });
        }
    }

    // The additive scores of every (query, source) pair: qW1 (B, Tq, A), kW2 (B, S, A), v (A) → (B, Tq, S).
    for (int rep = 0; rep < 2; ++rep) {
        const int B = d(), Tq = d(), S = d(), A = d();
        add_pair("additive_scores", "additive_scores_reference",
                 "nn/fused_additive_scores.cpp ↔ nn/attention.cpp; tested in tests/test_attention.cpp",
                 "v · tanh(qW1 + kW2), every pair", {Shape{B, Tq, A}, Shape{B, S, A}, Shape{A}},
                 [](const std::vector<Var>& in) { return additive_scores(in[0], in[1], in[2]); },
                 [](const std::vector<Var>& in) { return additive_scores_reference(in[0], in[1], in[2]); });
    }
    return cases;
}

std::vector<Var> case_inputs(const OpCase& c, uint64_t seed) {
    Rng rng(seed);
    std::vector<Var> inputs;
    for (size_t i = 0; i < c.shapes.size(); ++i) {
        Tensor t = c.positive ? rand_uniform(c.shapes[i], rng, Real(0.5), Real(2)) : randn(c.shapes[i], rng);
        inputs.push_back(parameter(std::move(t), fmt::format("x{}", i)));
    }
    return inputs;
}

FusedCheck check_fused(const FusedCase& fc) {
    const std::vector<Var> inputs = case_inputs(fc.fused, fc.seed);
    FusedCheck r;
    {
        NoGrad no_grad;  // the values alone need no tape
        r.diff = max_abs_diff(fc.fused.f(inputs).value(), fc.reference.f(inputs).value());
    }
    r.fused = gradcheck(fc.fused.f, inputs);
    r.reference = gradcheck(fc.reference.f, inputs);
    return r;
}

}  // namespace s2a

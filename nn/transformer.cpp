// nn/transformer.cpp — masks, attention (the op-by-op reference and the fused op with its hand-written
// backward), and the Transformer's modules wired from them.
//
// Dimensions: B batch, T/Tq/Tk steps, D d_model, h heads, dk = D/h, F FFN size (see nn/transformer.h).
// A (B, T, D) buffer is B·T rows of D: sentence b's step t is row b·T + t, and head j's slice of that row
// is columns j·dk .. (j+1)·dk - 1.
#include "nn/transformer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"
#include "nn/init.h"

namespace s2a {

// ---------------------------------------------------------------- masks

Tensor padding_mask(const IndexTensor& ids, int pad_id) {
    if (ids.shape.ndim != 2) shape_error("padding_mask", "ids must be (B, T)", {ids.shape});
    Tensor mask(Shape{ids.shape[0], 1, 1, ids.shape[1]});  // (B, 1, 1, T): same order as ids
    for (int64_t i = 0; i < ids.numel(); ++i) mask[i] = ids[i] != pad_id ? 1 : 0;
    return mask;
}

Tensor causal_mask(int T) {
    if (T < 0) throw std::invalid_argument(fmt::format("causal_mask: T must be >= 0, got {}", T));
    Tensor mask(Shape{T, T});  // (T, T), zeros above the diagonal
    for (int t = 0; t < T; ++t)
        for (int s = 0; s <= t; ++s) mask[int64_t(t) * T + s] = 1;
    return mask;
}

Tensor combine_masks(const Tensor& a, const Tensor& b) {
    try {
        return mul(constant(a), constant(b)).value();  // 1 · 1 = 1; any 0 blocks
    } catch (const ShapeError&) {
        shape_error("combine_masks", "the masks cannot be broadcast together", {a.shape, b.shape});
    }
}

// ---------------------------------------------------------------- attention, the reference

Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask, Tensor* weights) {
    Rng unused;  // dropout 0 outside training draws nothing
    return scaled_dot_product_attention(q, k, v, mask, weights, 0, unused, false);
}

Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask, Tensor* weights,
                                 Real p, Rng& rng, bool training) {
    if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4 || k.dim(0) != q.dim(0) || v.dim(0) != q.dim(0) ||
        k.dim(1) != q.dim(1) || v.dim(1) != q.dim(1) || k.dim(3) != q.dim(3) || v.dim(2) != k.dim(2))
        shape_error("scaled_dot_product_attention", "needs q (B, h, Tq, dk), k (B, h, Tk, dk), v (B, h, Tk, dv)",
                    {q.shape(), k.shape(), v.shape()});
    const int B = q.dim(0), h = q.dim(1), Tq = q.dim(2), dk = q.dim(3), Tk = k.dim(2), dv = v.dim(3);
    // bmm multiplies batches of matrices (3-D): fold (B, h) into one axis of B·h independent attentions.
    const Var q3 = reshape(q, Shape{B * h, Tq, dk});  // (B·h, Tq, dk)
    const Var k3 = reshape(k, Shape{B * h, Tk, dk});  // (B·h, Tk, dk)
    const Var v3 = reshape(v, Shape{B * h, Tk, dv});  // (B·h, Tk, dv)
    // scores[i, c] = q_i · k_c / √dk: how well query i matches key c
    const Var scores = scale(bmm(q3, k3, false, true), Real(1 / std::sqrt(double(dk))));  // (B·h, Tq, Tk)
    // The mask broadcasts against the 4-D scores (B, h, Tq, Tk); each row of w sums to 1 (or is all 0).
    const Var scores4 = reshape(scores, Shape{B, h, Tq, Tk});
    Var w = mask ? softmax(scores4, *mask) : softmax(scores4);  // (B, h, Tq, Tk)
    if (weights) *weights = w.value();
    w = dropout(w, p, rng, training);
    const Var out = bmm(reshape(w, Shape{B * h, Tq, Tk}), v3);  // (B·h, Tq, dv): out_i = Σ_c w[i, c] v_c
    return reshape(out, Shape{B, h, Tq, dv});
}

// ---------------------------------------------------------------- MultiHeadAttention

namespace {

void check_dropout(const char* who, Real p) {
    if (p < 0 || p >= 1) throw std::invalid_argument(fmt::format("{}: dropout must be in [0, 1), got {}", who, p));
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int D, int heads, Real dropout, Rng& rng)
    : D_(D), heads_(heads), dropout_(dropout), Wq_(D, D, rng), Wk_(D, D, rng), Wv_(D, D, rng), Wo_(D, D, rng),
      rng_(rng.next_u64()) {
    if (heads <= 0 || D % heads != 0)
        throw std::invalid_argument(fmt::format("MultiHeadAttention: D = {} must be a multiple of heads = {}", D, heads));
    check_dropout("MultiHeadAttention", dropout);
    add_random("dropout", rng_);
    // Wk's bias only adds q · bk to every score of a row, which the softmax ignores: it is kept anyway, as in
    // the paper's and PyTorch's layers, and its gradient is (exactly) zero.
    add_child("Wq", Wq_);
    add_child("Wk", Wk_);
    add_child("Wv", Wv_);
    add_child("Wo", Wo_);
}

void MultiHeadAttention::check_inputs(const char* op, const Var& x_q, const Var& x_kv) const {
    if (x_q.ndim() != 3 || x_kv.ndim() != 3 || x_q.dim(2) != D_ || x_kv.dim(2) != D_ || x_kv.dim(0) != x_q.dim(0))
        shape_error(op, fmt::format("needs x_q (B, Tq, D) and x_kv (B, Tk, D) with D = {}", D_), {x_q.shape(), x_kv.shape()});
}

Var MultiHeadAttention::forward(const Var& x_q, const Var& x_kv, const Tensor* mask, const Var& residual) {
    check_inputs("MultiHeadAttention", x_q, x_kv);
    // Q is projected before K and V, the order the tape had before decoding shared this code: recording K and V
    // first measured 5-10% slower on the long Transformer benchmark, for no reason we found in the arithmetic.
    const Var q = Wq_.forward(x_q);                       // (B, Tq, D)
    return attend_projected(q, project_kv(x_kv), mask, residual);  // (B, Tq, D)
}

// Each projection is one matrix product over all B·T positions (matmul reads (B, T, D) as B·T rows).
KeysValues MultiHeadAttention::project_kv(const Var& x_kv) const {
    if (x_kv.ndim() != 3 || x_kv.dim(2) != D_)
        shape_error("MultiHeadAttention", fmt::format("needs x_kv (B, Tk, D) with D = {}", D_), {x_kv.shape()});
    return {Wk_.forward(x_kv), Wv_.forward(x_kv)};  // (B, Tk, D) each: K = x_kv Wk + bk, V = x_kv Wv + bv
}

Var MultiHeadAttention::attend(const Var& x_q, const KeysValues& kv, const Tensor* mask, const Var& residual) {
    check_inputs("MultiHeadAttention", x_q, kv.k);  // K has x_kv's shape; multi_head_attention checks V against K
    return attend_projected(Wq_.forward(x_q), kv, mask, residual);  // (B, Tq, D), Q = x_q Wq + bq
}

const Tensor& MultiHeadAttention::last_weights() const {
    static const Tensor none;
    return last_weights_ ? *last_weights_ : none;
}

Var MultiHeadAttention::attend_projected(const Var& q, const KeysValues& kv, const Tensor* mask, const Var& residual) {
    const Var o = multi_head_attention(q, kv.k, kv.v, heads_, mask, dropout_, rng_, training(), &last_weights_);  // (B, Tq, D)
    // (B, Tq, D)  concat(heads) Wo + bo, plus the residual when given
    const Var out = residual.defined() ? Wo_.forward_residual(o, residual) : Wo_.forward(o);
    recompute_in_backward(o);  // Wo has read O: backward makes it again from the weights it keeps, one product
    return out;
}

Var MultiHeadAttention::forward_reference(const Var& x_q, const Var& x_kv, const Tensor* mask) {
    check_inputs("MultiHeadAttention", x_q, x_kv);
    const int dk = D_ / heads_;
    // (B, T, D) → (B, T, h, dk) → (B, h, T, dk): head j's columns become its own (T, dk) matrix
    auto split_heads = [&](const Var& x) {
        return permute(reshape(x, Shape{x.dim(0), x.dim(1), heads_, dk}), {0, 2, 1, 3});
    };
    const Var q = split_heads(Wq_.forward(x_q));   // (B, h, Tq, dk)
    const Var k = split_heads(Wk_.forward(x_kv));  // (B, h, Tk, dk)
    const Var v = split_heads(Wv_.forward(x_kv));  // (B, h, Tk, dk)
    Tensor weights;  // (B, h, Tq, Tk)
    const Var o = scaled_dot_product_attention(q, k, v, mask, &weights, dropout_, rng_, training());  // (B, h, Tq, dk)
    last_weights_ = std::make_shared<const Tensor>(std::move(weights));
    // merge: (B, h, Tq, dk) → (B, Tq, h, dk) → (B, Tq, D), the heads side by side
    const Var merged = reshape(permute(o, {0, 2, 1, 3}), Shape{x_q.dim(0), x_q.dim(1), D_});
    return Wo_.forward(merged);  // (B, Tq, D)
}

// ---------------------------------------------------------------- PositionalEncoding

PositionalEncoding::PositionalEncoding(int max_len, int D, bool learned, Rng& rng)
    : max_len_(max_len), D_(D), learned_(learned) {
    if (max_len <= 0 || D <= 0)
        throw std::invalid_argument(fmt::format("PositionalEncoding: sizes must be positive, got max_len = {}, D = {}", max_len, D));
    if (learned) {
        // Small, like BERT's and GPT's learned positions: the tokens' embeddings dominate at the start.
        table_ = add_parameter("P", init_normal(Shape{max_len, D}, Real(0.02), rng));
        return;
    }
    Tensor pe(Shape{max_len, D});  // (max_len, D)
    for (int pos = 0; pos < max_len; ++pos)
        for (int i = 0; 2 * i < D; ++i) {
            const double angle = pos / std::pow(10000.0, 2.0 * i / D);  // pos / 10000^(2i/D)
            pe[int64_t(pos) * D + 2 * i] = Real(std::sin(angle));
            if (2 * i + 1 < D) pe[int64_t(pos) * D + 2 * i + 1] = Real(std::cos(angle));
        }
    table_ = constant(std::move(pe), "PE");
}

Var PositionalEncoding::forward(const Var& x, int first) const {
    if (x.ndim() != 3 || x.dim(2) != D_)
        shape_error("PositionalEncoding", fmt::format("x must be (B, T, D) with D = {}", D_), {x.shape(), table_.shape()});
    const int T = x.dim(1);
    if (first < 0 || first + T > max_len_)
        shape_error("PositionalEncoding",
                    fmt::format("positions {} .. {} do not fit in max_len = {}", first, first + T - 1, max_len_), {x.shape(), table_.shape()});
    return x + slice(table_, 0, first, first + T);  // (B, T, D) + (T, D): position first + t's row is added to every sentence's step t
}

// ---------------------------------------------------------------- LayerNorm, PositionWiseFFN, AddNorm

LayerNorm::LayerNorm(int dim, Real epsilon) : D(dim), eps(epsilon) {
    if (D <= 0) throw std::invalid_argument(fmt::format("LayerNorm: D must be positive, got {}", D));
    gamma = add_parameter("gamma", Tensor(Shape{D}, 1));
    beta = add_parameter("beta", init_zeros(Shape{D}));
}

Var LayerNorm::forward(const Var& x) const { return layer_norm(x, gamma, beta, eps); }  // (..., D)

PositionWiseFFN::PositionWiseFFN(int D, int F, Real dropout, Rng& rng)
    : linear1_(D, F, rng), linear2_(F, D, rng), dropout_(dropout), rng_(rng.next_u64()) {
    check_dropout("PositionWiseFFN", dropout);
    add_random("dropout", rng_);
    add_child("linear1", linear1_);
    add_child("linear2", linear2_);
}

Var PositionWiseFFN::forward(const Var& x, const Var& residual) {
    // Every position is transformed alike: each Linear is one matrix product over all of them.
    const Var hidden = dropout(linear1_.forward_relu(x), dropout_, rng_, training());  // (..., F) max(0, x W1 + b1)
    return residual.defined() ? linear2_.forward_residual(hidden, residual) : linear2_.forward(hidden);  // (..., D)
}

AddNorm::AddNorm(int D, Real dropout, bool pre_norm, Rng& rng)
    : norm_(D), dropout_(dropout), pre_norm_(pre_norm), rng_(rng.next_u64()) {
    check_dropout("AddNorm", dropout);
    add_random("dropout", rng_);
    add_child("norm", norm_);
}

Var AddNorm::input(const Var& x) const { return pre_norm_ ? norm_.forward(x) : x; }

Var AddNorm::output(const Var& x, const Var& sublayer_out) {
    return normed(x + dropout(sublayer_out, dropout_, rng_, training()));  // (..., D) the residual connection
}

Var AddNorm::output(const Var& x, const std::function<Var(const Var& r)>& sublayer) {
    if (training() && dropout_ > 0) return output(x, sublayer(Var()));
    return normed(sublayer(x));  // (..., D) x + sublayer(x), summed by the sublayer's last product
}

Var AddNorm::normed(const Var& residual) const { return pre_norm_ ? residual : norm_.forward(residual); }

// ---------------------------------------------------------------- layers

EncoderLayer::EncoderLayer(int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng)
    : self_attn_(D, heads, dropout, rng), add_norm1_(D, dropout, pre_norm, rng), ffn_(D, F, dropout, rng),
      add_norm2_(D, dropout, pre_norm, rng) {
    add_child("self_attn", self_attn_);
    add_child("add_norm1", add_norm1_);
    add_child("ffn", ffn_);
    add_child("add_norm2", add_norm2_);
}

Var EncoderLayer::forward(const Var& x, const Tensor* src_mask) {
    // Each sublayer gets r, the residual it adds itself, or none (see AddNorm::output).
    const Var h1 = add_norm1_.input(x);  // (B, S, D)
    // x1 (B, S, D): each position mixes in the others
    const Var x1 = add_norm1_.output(x, [&](const Var& r) { return self_attn_.forward(h1, h1, src_mask, r); });
    recompute_in_backward(h1);  // its readers have run: a layer norm's output is made again in backward
    const Var h2 = add_norm2_.input(x1);                                                     // (B, S, D)
    const Var x2 = add_norm2_.output(x1, [&](const Var& r) { return ffn_.forward(h2, r); });  // (B, S, D) then each alone
    recompute_in_backward(h2);
    return x2;
}

DecoderLayer::DecoderLayer(int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng)
    : self_attn_(D, heads, dropout, rng), add_norm1_(D, dropout, pre_norm, rng), cross_attn_(D, heads, dropout, rng),
      add_norm2_(D, dropout, pre_norm, rng), ffn_(D, F, dropout, rng), add_norm3_(D, dropout, pre_norm, rng) {
    add_child("self_attn", self_attn_);
    add_child("add_norm1", add_norm1_);
    add_child("cross_attn", cross_attn_);
    add_child("add_norm2", add_norm2_);
    add_child("ffn", ffn_);
    add_child("add_norm3", add_norm3_);
}

Var DecoderLayer::forward(const Var& y, const Var& memory, const Tensor* self_mask, const Tensor* memory_mask) {
    const Var h1 = add_norm1_.input(y);  // (B, T, D)
    return sublayers(y, h1, self_attn_.project_kv(h1), self_mask, cross_attn_.project_kv(memory), memory_mask);
}

DecoderLayerCache DecoderLayer::start(const Var& memory) const {
    return {KeysValues{}, cross_attn_.project_kv(memory)};  // no positions yet; the source's (R, S, D) each
}

namespace {

// past (R, t, D) and the newest position (R, 1, D) → (R, t + 1, D); the first step starts the time axis.
Var append_position(const Var& past, const Var& newest) { return past.defined() ? concat({past, newest}, 1) : newest; }

}  // namespace

// Every operation but attention works on each position alone (the norms, the projections, the FFN), so the
// newest position's row needs nothing of the earlier rows except their keys and values, which the cache keeps.
Var DecoderLayer::step(const Var& y, const Tensor* memory_mask, DecoderLayerCache& cache) {
    const Var h1 = add_norm1_.input(y);                      // (R, 1, D)
    const KeysValues newest = self_attn_.project_kv(h1);     // (R, 1, D) each
    cache.self.k = append_position(cache.self.k, newest.k);  // (R, t + 1, D)
    cache.self.v = append_position(cache.self.v, newest.v);  // (R, t + 1, D)
    return sublayers(y, h1, cache.self, nullptr, cache.memory, memory_mask);  // (R, 1, D)
}

Var DecoderLayer::sublayers(const Var& y, const Var& h1, const KeysValues& self_kv, const Tensor* self_mask,
                            const KeysValues& memory_kv, const Tensor* memory_mask) {
    // Each sublayer gets r, the residual it adds itself, or none (see AddNorm::output).
    // y1 (B, T, D): looks at the target so far
    const Var y1 = add_norm1_.output(y, [&](const Var& r) { return self_attn_.attend(h1, self_kv, self_mask, r); });
    recompute_in_backward(h1);  // its readers have run (see EncoderLayer::forward)
    const Var h2 = add_norm2_.input(y1);  // (B, T, D)
    // y2 (B, T, D): looks at the source
    const Var y2 = add_norm2_.output(y1, [&](const Var& r) { return cross_attn_.attend(h2, memory_kv, memory_mask, r); });
    recompute_in_backward(h2);
    const Var h3 = add_norm3_.input(y2);                                                     // (B, T, D)
    const Var y3 = add_norm3_.output(y2, [&](const Var& r) { return ffn_.forward(h3, r); });  // (B, T, D)
    recompute_in_backward(h3);
    return y3;
}

// ---------------------------------------------------------------- stacks

TransformerEncoder::TransformerEncoder(int N, int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng) {
    if (N <= 0) throw std::invalid_argument(fmt::format("TransformerEncoder: N must be positive, got {}", N));
    for (int i = 0; i < N; ++i) {
        layers_.push_back(std::make_unique<EncoderLayer>(D, heads, F, dropout, pre_norm, rng));
        add_child(fmt::format("layer{}", i), *layers_.back());
    }
    if (pre_norm) {  // pre-norm layers leave their sum un-normalised: normalise the stack's output once
        final_norm_ = std::make_unique<LayerNorm>(D);
        add_child("norm", *final_norm_);
    }
}

Var TransformerEncoder::forward(const Var& x, const Tensor* src_mask) {
    Var h = x;  // (B, S, D)
    for (auto& layer : layers_) h = layer->forward(h, src_mask);
    return final_norm_ ? final_norm_->forward(h) : h;
}

TransformerDecoder::TransformerDecoder(int N, int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng) {
    if (N <= 0) throw std::invalid_argument(fmt::format("TransformerDecoder: N must be positive, got {}", N));
    for (int i = 0; i < N; ++i) {
        layers_.push_back(std::make_unique<DecoderLayer>(D, heads, F, dropout, pre_norm, rng));
        add_child(fmt::format("layer{}", i), *layers_.back());
    }
    if (pre_norm) {
        final_norm_ = std::make_unique<LayerNorm>(D);
        add_child("norm", *final_norm_);
    }
}

Var TransformerDecoder::forward(const Var& y, const Var& memory, const Tensor* self_mask, const Tensor* memory_mask) {
    Var h = y;  // (B, T, D)
    for (auto& layer : layers_) h = layer->forward(h, memory, self_mask, memory_mask);
    return final_norm_ ? final_norm_->forward(h) : h;
}

std::vector<DecoderLayerCache> TransformerDecoder::start(const Var& memory) const {
    std::vector<DecoderLayerCache> cache;
    for (const auto& layer : layers_) cache.push_back(layer->start(memory));  // memory (R, S, D)
    return cache;
}

Var TransformerDecoder::step(const Var& y, const Tensor* memory_mask, std::vector<DecoderLayerCache>& cache) {
    if (cache.size() != layers_.size())
        throw std::invalid_argument(fmt::format("TransformerDecoder::step: {} caches for {} layers", cache.size(), layers_.size()));
    Var h = y;  // (R, 1, D)
    for (size_t l = 0; l < layers_.size(); ++l) h = layers_[l]->step(h, memory_mask, cache[l]);
    return final_norm_ ? final_norm_->forward(h) : h;
}

}  // namespace s2a

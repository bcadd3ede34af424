// nn/transformer.h — the Transformer (Vaswani et al., 2017, "Attention Is All You Need"): masks, scaled
// dot-product attention, multi-head attention, positional encoding, layer norm, the position-wise
// feed-forward network, the residual "add & norm" wrapper, and the encoder and decoder layers and stacks.
//
// Dimensions:
//   B    batch: sentences processed at once
//   T    time steps; Tq those of the queries, Tk those of the keys and values (S the source's, T the target's
//        in the encoder-decoder stacks)
//   D    d_model: the width of every token's vector between sublayers
//   h    heads
//   dk   D / h: the width of one head's queries and keys (dv, the values' width, is dk too)
//   F    the hidden width of the feed-forward network (4·D in the paper)
//   N    layers in a stack
//
// The ideas, in the order this file builds them:
//   attention(Q, K, V) = softmax(Q Kᵀ / √dk) V
//       each query row becomes a weighted average of the value rows, weighted by how well the query matches
//       each key. Dividing by √dk keeps the scores' variance near 1 whatever dk is (a dot product of dk
//       unit-variance terms has variance dk), so the softmax does not saturate into a one-hot.
//   masks: a Tensor of 1 (may attend) and 0 (blocked) broadcast over the scores (B, h, Tq, Tk). Blocked
//       positions get weight exactly 0. Padding masks hide <pad> keys; the causal mask hides the future, so
//       the decoder's step t cannot peek at the words it must predict.
//   multi-head attention: h attentions side by side, each on its own dk-wide projection of the input
//       (head j uses columns j·dk .. (j+1)·dk - 1 of Q = x Wq, K = x Wk, V = x Wv), concatenated and mixed
//       by Wo. Different heads can look at different positions for different reasons.
//   positional encoding: attention ignores order (it sees a set of vectors), so each position's vector is
//       added to the token at that position: fixed sinusoids, or a learned table.
//   a layer: sublayer(s) (attention, feed-forward), each wrapped as residual + layer norm (AddNorm).
//   incremental decoding: generating an answer adds one position at a time, and under the causal mask no
//       earlier position's output depends on a later one. So a decoder step runs only the newest position
//       through the layers, keeping every layer's keys and values of the earlier positions (and of the source,
//       which never change) in a cache: O(T) positions per answer instead of O(T²) (DecoderLayer::step).
//
// Fast path and reference. MultiHeadAttention::forward runs every head's attention inside one tape node
// (multi_head_attention, nn/fused_attention.h): it reads the heads straight out of the projections' (B, T, D) layout and
// writes the merged result the same way, so splitting and merging heads costs no copies, and its backward
// is a handful of BLAS calls per (sentence, head). forward_reference is the textbook path built from
// existing ops (reshape + permute to split heads, scaled_dot_product_attention, merge, Wo); the tests hold
// the two to the same values and gradients.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "autodiff/tape.h"
#include "nn/fused_attention.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace s2a {

// ---------------------------------------------------------------- masks (1 = attend, 0 = blocked)

// ids (B, T) → (B, 1, 1, T): 0 where ids is pad_id. Broadcasts over heads and query rows.
Tensor padding_mask(const IndexTensor& ids, int pad_id);
// (T, T), lower-triangular: row t (a query) may see columns 0..t (keys up to and including itself).
Tensor causal_mask(int T);
// The broadcast product of two masks: attend only where both allow it, e.g. (B, 1, 1, T) × (T, T) → (B, 1, T, T).
Tensor combine_masks(const Tensor& a, const Tensor& b);

// ---------------------------------------------------------------- attention

// softmax(q kᵀ / √dk, mask) v, from existing ops: the readable reference.
//   q (B, h, Tq, dk), k (B, h, Tk, dk), v (B, h, Tk, dv) → (B, h, Tq, dv)
//   mask: broadcastable to (B, h, Tq, Tk), or nullptr; a fully masked row gives weights 0 and output 0.
//   weights: if not null, receives the softmax weights (B, h, Tq, Tk) (before any dropout).
Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask = nullptr,
                                 Tensor* weights = nullptr);
// The same, with dropout on the weights when training (each zeroed with probability `dropout`, drawn from rng).
Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask, Tensor* weights,
                                 Real dropout, Rng& rng, bool training);

// The keys and values an attention reads, projected from its x_kv: K = x_kv Wk + bk, V = x_kv Wv + bv.
struct KeysValues {
    Var k, v;  // (B, Tk, D) each
};

class MultiHeadAttention : public Module {
  public:
    // Children "Wq", "Wk", "Wv", "Wo": Linear(D, D) each. Throws std::invalid_argument unless D % heads == 0
    // and 0 <= dropout < 1. The dropout Rng is seeded from rng here.
    MultiHeadAttention(int D, int heads, Real dropout, Rng& rng);

    // x_q (B, Tq, D) attends over x_kv (B, Tk, D) → (B, Tq, D); for self-attention pass the same Var twice.
    // mask: broadcastable to (B, h, Tq, Tk), or nullptr.
    // Dropout on the attention weights in training mode. Keeps the weights for last_weights().
    // It is attend(x_q, project_kv(x_kv), mask): the two halves below.
    // residual (B, Tq, D), when given, is added to the output by Wo itself (Linear::forward_residual): the
    // residual connection around this sublayer, with no tensor kept for the sublayer's output alone.
    Var forward(const Var& x_q, const Var& x_kv, const Tensor* mask = nullptr, const Var& residual = Var());
    // The same, op by op: split heads (reshape + permute), scaled_dot_product_attention, merge heads, Wo.
    Var forward_reference(const Var& x_q, const Var& x_kv, const Tensor* mask = nullptr);

    // The half of forward that depends on x_kv alone, so a caller can keep its result (DecoderLayer::step):
    // x_kv (B, Tk, D) → K, V (B, Tk, D) each.
    KeysValues project_kv(const Var& x_kv) const;
    // The other half: x_q (B, Tq, D) attends over keys and values kv (B, Tk, D) each → (B, Tq, D).
    //   Q = x_q Wq + bq, then every head's softmax(Q Kᵀ / √dk) V, merged, then · Wo + bo.
    // mask, dropout, the kept weights and residual as in forward.
    Var attend(const Var& x_q, const KeysValues& kv, const Tensor* mask = nullptr, const Var& residual = Var());

    // The softmax weights of the last forward or attend (B, h, Tq, Tk), before dropout: for heat maps.
    const Tensor& last_weights() const;
    int d_model() const { return D_; }
    int heads() const { return heads_; }

  private:
    // Throws ShapeError (naming op) unless x_q is (B, Tq, D) and x_kv (or the keys projected from it) is (B, Tk, D).
    void check_inputs(const char* op, const Var& x_q, const Var& x_kv) const;
    // attend once Q = x_q Wq + bq is projected: q (B, Tq, D) → every head's softmax(Q Kᵀ / √dk) V, merged, · Wo + bo.
    Var attend_projected(const Var& q, const KeysValues& kv, const Tensor* mask, const Var& residual);

    int D_, heads_;
    Real dropout_;
    Linear Wq_, Wk_, Wv_, Wo_;
    Rng rng_;
    std::shared_ptr<const Tensor> last_weights_;  // (B, h, Tq, Tk), shared with the fused op's node; null before any
};

// ---------------------------------------------------------------- the other sublayers

class PositionalEncoding : public Module {
  public:
    // Sinusoidal (learned = false): a constant table PE (max_len, D),
    //   PE(pos, 2i) = sin(pos / 10000^(2i/D)),   PE(pos, 2i+1) = cos(pos / 10000^(2i/D)),
    // one frequency per pair of columns, from 1 (period 2π) down to 1/10000 (period 2π·10000); no parameters.
    // Learned: the parameter "P" (max_len, D), initialised N(0, 0.02²).
    PositionalEncoding(int max_len, int D, bool learned, Rng& rng);

    // x (B, T, D), the positions first .. first + T - 1 → x + PE[first : first + T] (B, T, D). first > 0 is for
    // incremental decoding, whose step t embeds position t alone. Throws ShapeError naming PositionalEncoding
    // if first + T > max_len.
    Var forward(const Var& x, int first = 0) const;

    const Tensor& table() const { return table_.value(); }  // (max_len, D)
    bool learned() const { return learned_; }

  private:
    int max_len_, D_;
    bool learned_;
    Var table_;  // (max_len, D): a constant, or the parameter "P"
};

class LayerNorm : public Module {
  public:
    // gamma "gamma" (D) ones, beta "beta" (D) zeros.
    explicit LayerNorm(int D, Real eps = 1e-5);
    // x (..., D) → (x - mean) / √(var + eps) · gamma + beta over each row of D values (one fused op).
    Var forward(const Var& x) const;

    int D;
    Real eps;
    Var gamma, beta;
};

class PositionWiseFFN : public Module {
  public:
    // Children "linear1" Linear(D, F) and "linear2" Linear(F, D).
    PositionWiseFFN(int D, int F, Real dropout, Rng& rng);
    // x (..., D) → max(0, x W1 + b1) W2 + b2 (..., D), the same network at every position, with dropout on
    // the hidden layer in training mode. residual (..., D), when given, is added by linear2 itself, as in
    // MultiHeadAttention::forward.
    Var forward(const Var& x, const Var& residual = Var());

  private:
    Linear linear1_, linear2_;
    Real dropout_;
    Rng rng_;
};

// Residual connection and layer norm around a sublayer, in one of two arrangements:
//   post-norm (the paper):  x ← LN(x + dropout(sublayer(x)))
//   pre-norm:               x ← x + dropout(sublayer(LN(x)))    (the stack ends with one more LN)
// Pre-norm keeps an un-normalised path from every layer's input to the stack's output, so gradients reach
// the first layers undiminished and training is stable without a learning-rate warm-up.
// Both read the same at the call site:
//   const Var h = add_norm.input(x);              // what the sublayer sees
//   x = add_norm.output(x, sublayer(h));          // the residual sum (and LN, post-norm)
class AddNorm : public Module {
  public:
    // Child "norm": LayerNorm(D).
    AddNorm(int D, Real dropout, bool pre_norm, Rng& rng);

    Var input(const Var& x) const;                       // pre-norm: LN(x); post-norm: x
    Var output(const Var& x, const Var& sublayer_out);   // post-norm: LN(x + drop(out)); pre-norm: x + drop(out)
    // The same, with the sublayer run here: sublayer(r) must return its output plus r when r is defined.
    // Where the output needs no dropout (evaluation, or dropout 0) r is x, and the sublayer's last linear
    // layer adds it where its product is written (Linear::forward_residual): one node, and no tensor kept
    // for the sublayer's output alone. With dropout r is undefined and the sum is made as above. The same
    // numbers either way.
    Var output(const Var& x, const std::function<Var(const Var& r)>& sublayer);
    bool pre_norm() const { return pre_norm_; }

  private:
    Var normed(const Var& residual) const;  // post-norm: LN(residual); pre-norm: residual as it is

    LayerNorm norm_;
    Real dropout_;
    bool pre_norm_;
    Rng rng_;
};

// ---------------------------------------------------------------- layers and stacks

class EncoderLayer : public Module {
  public:
    // Children "self_attn", "add_norm1", "ffn", "add_norm2".
    EncoderLayer(int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng);
    // x (B, S, D) → (B, S, D): self-attention (src_mask hides padding; nullptr for none), then the FFN.
    Var forward(const Var& x, const Tensor* src_mask);
    const MultiHeadAttention& self_attention() const { return self_attn_; }

  private:
    MultiHeadAttention self_attn_;
    AddNorm add_norm1_;
    PositionWiseFFN ffn_;
    AddNorm add_norm2_;
};

// What a DecoderLayer keeps between the steps of incremental decoding, for R rows (sentences or hypotheses).
struct DecoderLayerCache {
    KeysValues self;    // (R, t, D) each: the self-attention's keys and values of the t positions decoded so far
    KeysValues memory;  // (R, S, D) each: the cross-attention's keys and values of the source, projected once
};

class DecoderLayer : public Module {
  public:
    // Children "self_attn", "add_norm1", "cross_attn", "add_norm2", "ffn", "add_norm3".
    DecoderLayer(int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng);
    // y (B, T, D), memory (B, S, D) (the encoder's output) → (B, T, D):
    //   masked self-attention over y (self_mask: causal, usually combined with the target's padding),
    //   cross-attention from y onto memory (memory_mask: the source's padding), then the FFN.
    Var forward(const Var& y, const Var& memory, const Tensor* self_mask, const Tensor* memory_mask);

    // Incremental decoding. start: memory (R, S, D) → the cache before the first step (no positions yet).
    DecoderLayerCache start(const Var& memory) const;
    // The newest position y (R, 1, D) → its row of forward's output (R, 1, D), given the t earlier positions'
    // keys and values in cache.self; its own are appended there (t + 1). Its query attends over all of them
    // with no mask: the later positions the causal mask hides in forward do not exist yet.
    Var step(const Var& y, const Tensor* memory_mask, DecoderLayerCache& cache);

    const MultiHeadAttention& self_attention() const { return self_attn_; }
    const MultiHeadAttention& cross_attention() const { return cross_attn_; }

  private:
    // The layer once its inputs are projected, shared by forward and step: y (B, T, D), h1 = add_norm1.input(y)
    // (B, T, D), the self-attention's keys and values self_kv (B, Tk, D), the source's memory_kv (B, S, D)
    // → (B, T, D). Tk = T in forward; in step T = 1 and Tk counts every position so far.
    Var sublayers(const Var& y, const Var& h1, const KeysValues& self_kv, const Tensor* self_mask,
                  const KeysValues& memory_kv, const Tensor* memory_mask);

    MultiHeadAttention self_attn_;
    AddNorm add_norm1_;
    MultiHeadAttention cross_attn_;
    AddNorm add_norm2_;
    PositionWiseFFN ffn_;
    AddNorm add_norm3_;
};

class TransformerEncoder : public Module {
  public:
    // Children "layer0" .. "layer{N-1}", and "norm" (a final LayerNorm) when pre-norm.
    TransformerEncoder(int N, int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng);
    // x (B, S, D) → memory (B, S, D).
    Var forward(const Var& x, const Tensor* src_mask);
    const std::vector<std::unique_ptr<EncoderLayer>>& layers() const { return layers_; }

  private:
    std::vector<std::unique_ptr<EncoderLayer>> layers_;
    std::unique_ptr<LayerNorm> final_norm_;  // null when post-norm
};

class TransformerDecoder : public Module {
  public:
    // Children "layer0" .. "layer{N-1}", and "norm" (a final LayerNorm) when pre-norm.
    TransformerDecoder(int N, int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng);
    // y (B, T, D), memory (B, S, D) → (B, T, D).
    Var forward(const Var& y, const Var& memory, const Tensor* self_mask, const Tensor* memory_mask);

    // Incremental decoding (DecoderLayer::step), one cache per layer. memory (R, S, D) → the caches before
    // the first step; step: the newest position y (R, 1, D) → its row of forward's output (R, 1, D).
    std::vector<DecoderLayerCache> start(const Var& memory) const;
    Var step(const Var& y, const Tensor* memory_mask, std::vector<DecoderLayerCache>& cache);

    const std::vector<std::unique_ptr<DecoderLayer>>& layers() const { return layers_; }

  private:
    std::vector<std::unique_ptr<DecoderLayer>> layers_;
    std::unique_ptr<LayerNorm> final_norm_;  // null when post-norm
};

}  // namespace s2a

// nn/attention_variants.h — chapter 7: three changes to chapter 3's global attention (nn/attention.h).
//
// Dimensions:
//   B    batch                      Tq   query (decoder) steps           S    source steps
//   Hq   query size                 Hk   source size                     K    key size (AttentionWeight::key_size)
//   A    inner size of the additive score and of the centre predictor
//   D    half-width of the local window, W = 2D + 1 its width
//   F    location filters           Kc   their width
//   S_b, T_b   sentence b's real source length and real number of decoder steps
//
// Global attention (chapter 3) scores every source position at every decoder step: its cost per step grows
// with S, and nothing in it knows that the decoder moves through the source in order. The three variants:
//
// Local-p attention (Luong et al. 2015). The decoder first predicts where to look, a centre p_t, and scores
// only a window of 2D + 1 positions around it; a Gaussian centred at p_t favours the middle of the window:
//   p_t    = f_b + S_b · σ(v_pᵀ tanh(W_p h_t))                f_b the first real position of sentence b
//   aₜ(s)  = softmax_{s ∈ window}(score(h_t, hs_s)) · exp(−(s − p_t)² / 2σ²),   σ = D / 2
//   window = round(p_t) − D … round(p_t) + D, positions outside the sentence masked
//   c_t    = Σ_{s ∈ window} aₜ(s) hs_s
// Only the window's keys and states are gathered (gather_windows), so a step costs O(D), not O(S). The
// weights no longer sum to 1 (the Gaussian scales them down away from p_t), as in the paper. round(p_t) is
// a step function with no gradient, so p_t learns only through the Gaussian: ∂aₜ(s)/∂p_t = aₜ(s)·(s − p_t)/σ².
//
// Location-aware attention (Chorowski et al. 2015). The additive score also sees where the previous step
// looked: F filters of width Kc slide over α_{t−1}, the previous step's weights (zeros before the first step),
//   f_t    = conv1d(α_{t−1}, filters)                          (B, S, F)
//   e_t(s) = vᵀ tanh(W₁ h_t + W₂ hs_s + U f_t(s))              U (F, A)
// so "one position to the right of where I was" becomes a feature the score can learn. It needs the previous
// step's weights, so it runs one decoder step at a time.
//
// Guided attention loss (Tachibana et al. 2017). When the alignment is known to be near the diagonal (copying,
// transliteration, speech), penalise weight far from it:
//   L_guided = (1 / Σ_b T_b) Σ_b Σ_{t < T_b} Σ_{s < S_b} a_{b,t,s} · W_{b,t,s},   W = 1 − exp(−(s/S_b − t/T_b)² / 2g²)
// padding (s ≥ S_b, t ≥ T_b) excluded. Added to the cross-entropy with a weight λ.
#pragma once

#include <vector>

#include "autodiff/tape.h"
#include "nn/attention.h"
#include "nn/module.h"

namespace s2a {

// Windows of W consecutive rows of x, one per query: x (B, S, n), starts (B, Tq) → (B·Tq, W, n),
//   y[b·Tq + t, j] = x[b, starts[b, t] + j]        (zeros where starts[b, t] + j is outside 0..S-1)
// Backward scatter-adds dy back to the rows it was copied from (overlapping windows add up).
Var gather_windows(const Var& x, const IndexTensor& starts, int W);

// The opposite move: each query's window weights a (B, Tq, W) laid out over all S source positions,
//   y[b, t, starts[b, t] + j] = a[b, t, j]        (0 elsewhere; slots outside 0..S-1 are dropped)
// so a loss written for global weights (the guided loss) reads local-p's. Backward reads dy back at the slots.
Var spread_windows(const Var& a, const IndexTensor& starts, int S);

// The real source positions of each sentence, read from a padding mask (B, S) (null: all S are real). They
// must form one run, as a padded row's do (padding at the end, or at the start of a reversed source).
struct SourceSpans {
    std::vector<int> first, length;  // f_b and S_b, one each per sentence
};
SourceSpans source_spans(const Tensor* mask, int B, int S);

class LocalAttention : public Module {
  public:
    // Scores with `weight` (not owned: the caller's AttentionWeight, any score), which must outlive this layer.
    // Parameters "Wp" (Hq, A) and "vp" (A) of the centre predictor; A = 0 means A = Hq. Throws
    // std::invalid_argument if D < 1 or A < 0.
    LocalAttention(const AttentionWeight& weight, int D, Rng& rng, int A = 0);

    // The centres p (B, Tq, 1) of queries q (B, Tq, Hq): p_t = f_b + S_b · σ(v_pᵀ tanh(W_p h_t)).
    Var centres(const Var& q, const SourceSpans& spans) const;

    // q (B, Tq, Hq), hs (B, S, Hk), keys = weight.keys(hs) (B, S, K), mask null or (B, S) → c (B, Tq, Hk).
    // Keeps the weights spread over all S positions (zeros outside each window) and the centres, for display;
    // with `weights`, also gives those spread weights (B, Tq, S) on the tape, for a loss on them.
    // Throws ShapeError naming "LocalAttention" when the shapes do not fit.
    Var forward(const Var& q, const Var& hs, const Var& keys, const Tensor* mask, Var* weights = nullptr);

    const Tensor& last_weights() const { return last_weights_; }  // (B, Tq, S)
    const Tensor& last_centres() const { return last_centres_; }  // (B, Tq, 1)
    int half_width() const { return D_; }

  private:
    const AttentionWeight* weight_;
    int D_;
    Var Wp_, vp_;          // (Hq, A), (A)
    Tensor last_weights_;  // (B, Tq, S)
    Tensor last_centres_;  // (B, Tq, 1)
};

class LocationAwareAttention : public Module {
  public:
    // `weight` must use the additive score (std::invalid_argument otherwise); not owned, it must outlive this
    // layer. Parameters "filters" (Kc, 1, F) and "U" (F, A). Throws std::invalid_argument if F or Kc < 1.
    LocationAwareAttention(const AttentionWeight& weight, int F, int Kc, Rng& rng);

    // One decoder step: q (B, 1, Hq), keys = weight.keys(hs) (B, S, A), the previous step's weights
    // prev (B, S) (zeros before the first step), mask null or (B, S) → a (B, 1, S).
    // Throws ShapeError naming "LocationAwareAttention" when the shapes do not fit.
    Var weights(const Var& q, const Var& keys, const Var& prev, const Tensor* mask) const;

  private:
    const AttentionWeight* weight_;
    Var filters_, U_;  // (Kc, 1, F), (F, A)
};

// The guide W (B, T, S) of guided_attention_loss: W_{b,t,s} = 1 − exp(−(s/S_b − t/T_b)² / 2g²) for t < T_b and
// s < S_b, 0 elsewhere (padding). Throws std::invalid_argument if a length is outside 0..S or 0..T, or g ≤ 0.
Tensor attention_guide(const std::vector<int>& src_lengths, const std::vector<int>& tgt_lengths, int T, int S, Real g);

// The guided attention loss of weights a (B, T, S) against the guide above, divided by Σ_b T_b (0 if it is 0).
Var guided_attention_loss(const Var& a, const std::vector<int>& src_lengths, const std::vector<int>& tgt_lengths, Real g);

}  // namespace s2a

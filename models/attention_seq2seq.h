// models/attention_seq2seq.h — the encoder-decoder with attention (chapters 3 and 4).
//
// Dimensions: B batch, S source length, T decoder steps, V vocabulary, E embedding, H hidden, L layers.
//
// The encoder keeps every hidden state hs (B, S, H), not only the last. At each step the decoder scores
// its state against every row of hs, turns the scores into weights with a softmax (padding gets weight 0),
// and reads the context c = Σₛ aₛ hsₛ: a summary of the source chosen for this step. Two wirings:
//   Luong    (attend after the LSTM)  s_t = LSTM(s_{t-1}, y_{t-1});       c_t = attend(s_t);
//                                      logits = Linear([c_t; s_t])  — all T steps at once in training
//   Bahdanau (attend before the LSTM) c_t = attend(s_{t-1});               s_t = LSTM(s_{t-1}, [y_{t-1}; c_t]);
//                                      logits = Linear([s_t; c_t])  — one step at a time, even in training
// With L > 1 layers, LSTM is the whole stack and s_t its output (B, H): the top layer's h, plus, in a
// residual stack, the outputs of the layers below (nn/stacked_lstm.h). Both wirings read that same s_t,
// to predict and to attend; a residual stack's top layer alone holds only the last correction to it.
// The decoder starts where the encoder stopped: each layer from the encoder layer's final state, and
// s_0, the first Bahdanau query, is the encoder stack's output at its last step.
// The encoder may be bidirectional: a forward and a backward LSTM of H/2 units each, their states
// concatenated, so each hsₛ describes the source on both sides of position s.
//
// Chapter 7 swaps the attention itself (nn/attention_variants.h): local-p attention runs time-distributed like
// the global one; location-aware attention needs the previous step's weights, so the decoder attends one step
// at a time (in the Luong wiring the LSTM still runs over all steps at once, only the attention loops). The
// guided attention loss adds λ · L_guided to the cross-entropy. The defaults are chapter 3's model, bit for bit.
#pragma once

#include <memory>

#include "models/seq2seq.h"
#include "nn/attention.h"
#include "nn/attention_variants.h"
#include "nn/stacked_lstm.h"

namespace s2a {

enum class Wiring { Luong, Bahdanau };
Wiring parse_wiring(const std::string& name);  // "luong" or "bahdanau"

// Which attention the decoder runs: chapter 3's over every source position, local-p, or location-aware.
enum class Attend { Global, LocalP, Location };
Attend parse_attend(const std::string& name);  // "global", "local-p" or "location"
const char* attend_name(Attend attend);

struct AttentionConfig {
    int V = 0, E = 16, H = 256;
    Score score = Score::Dot;
    Wiring wiring = Wiring::Luong;
    bool bidirectional = false;
    int layers = 1;           // LSTM layers in the encoder and in the decoder
    bool residual = false;    // residual connections from the second layer up
    Real dropout = 0;         // between layers
    int pad_id = -1;          // source padding to mask (-1: none)
    int end_id = -1;          // the symbol that ends an answer (-1: answers are always T tokens; models/seq2seq.h)
    bool reversed_source = false;  // the padding run is at the start of a reversed source, at the end otherwise
    Attend attend = Attend::Global;
    int window = 5;                // local-p: the half-width D
    int location_filters = 8;      // location-aware: F filters
    int location_width = 9;        // location-aware: of width Kc (additive score only)
    Real guided_weight = 0;        // λ of the guided attention loss; 0: off (needs a source that is not reversed)
    Real guided_g = Real(0.2);     // its width g
};

// What a stack of LSTM layers carries from one step to the next: every layer's state, and the stack's
// output s (the residual sum, when there is one), which no single layer's state holds.
struct StackState {
    std::vector<LSTMState> layers;  // one (h, c) per layer, each (B, H)
    Var out;                        // s: (B, H)
    Var alignment = {};             // location-aware attention: the previous step's weights α_{t−1} (B, S);
                                    // undefined before the first step (read as zeros)
};

// 1 for real source positions, 0 for the run of pad_id that pads each row (B, S) → (B, S).
Tensor source_mask(const IndexTensor& src, int pad_id, bool reversed);

class AttentionEncoder : public Module {
  public:
    AttentionEncoder(const AttentionConfig& cfg, Rng& rng);
    // src (B, S) → hs (B, S, H) and the final state: each layer's, and the output at the last step
    // (per direction when bidirectional, [forward; backward]). It is the decoder's initial state.
    std::pair<Var, StackState> forward(const IndexTensor& src) const;

  private:
    Embedding embed;
    StackedLSTM forward_lstm;
    std::unique_ptr<StackedLSTM> backward_lstm;  // bidirectional only
};

class AttentionDecoder : public Module {
  public:
    AttentionDecoder(const AttentionConfig& cfg, Rng& rng);
    // Teacher forcing: tgt_in (B, T), hs (B, S, H), mask (B, S) or null, initial state → logits (B, T, V).
    // With `weights`, also every step's attention weights a (B, T, S), on the tape (for the guided loss).
    Var forward(const IndexTensor& tgt_in, const Var& hs, const Tensor* mask, StackState state, Var* weights = nullptr);
    // One generation step: prev (B) → logits (B, V); `state` advances; weights (B, 1, S) of this step in `a`.
    Var step(const IndexTensor& prev, const Var& hs, const Var& keys, const Tensor* mask, StackState& state, Tensor* a);
    Var keys(const Var& hs) const { return attention.weight.keys(hs); }
    // The weights of the last step or forward pass (B, Tq, S), whichever attention runs; for display.
    const Tensor& last_weights() const { return last_weights_; }

    Attention attention;                              // the score (and, for global attention, all of it)
    std::unique_ptr<LocalAttention> local;            // Attend::LocalP: the centre predictor, child "local"
    std::unique_ptr<LocationAwareAttention> location; // Attend::Location: the filters and U, child "location"

  private:
    // Bahdanau: one step given the embedded previous token x (B, E) → the output layer's input [s; c] (B, 2H).
    Var bahdanau_step(const Var& x, const Var& hs, const Var& keys, const Tensor* mask, StackState& state, Var* a);
    // The configured attention: queries q (B, Tq, H) → contexts (B, Tq, H); the weights (B, Tq, S) on the tape in
    // `a` (local-p's spread over S, zeros outside each window) and for display in last_weights_. Location-aware attention reads and
    // advances state.alignment, one step at a time.
    Var attend(const Var& q, const Var& hs, const Var& keys, const Tensor* mask, StackState& state, Var* a);

    AttentionConfig cfg;
    Embedding embed;
    StackedLSTM lstm;
    Linear out;
    Tensor last_weights_;  // (B, Tq, S) of the last attend()
};

// The decoding steps (models/decoding.h) of `decoder` over encoder states hs (B, S, H) from the initial state
// `state`, each row repeated `copies` times; mask (B, S) or null. Every step appends its weights (R, 1, S) to
// `weights`, which the caller owns and clears. AttentionSeq2seq and the captioner (models/captioner.h) share it.
DecoderSteps attention_decoder_steps(AttentionDecoder& decoder, const Var& hs, const StackState& state, const Tensor* mask,
                                     int copies, std::vector<Tensor>& weights);
// The weights greedy decoding kept, one (B, 1, S) per step, laid out as an attention map (B, length, S).
Tensor attention_map_of(const std::vector<Tensor>& steps, int B, int length);

// T_b of the guided loss for targets (B, T) as answer_targets writes them: each answer's tokens before its end
// symbol. The end symbol has no source position to look at, so its step is left unguided, like padding.
// Counting it would put the guide's diagonal s/S_b = t/T_b at s = t·S_b/(S_b + 1) when copying (T_b = S_b + 1):
// in the second half of the answer, one position behind the letter to read.
std::vector<int> guide_lengths(const IndexTensor& targets, int end_id);

class AttentionSeq2seq : public Seq2seqModel {
  public:
    AttentionSeq2seq(const AttentionConfig& cfg, Rng& rng);
    Var loss(const IndexTensor& src, const IndexTensor& tgt) override;
    DecoderSteps steps(const IndexTensor& src, int copies) override;
    int end_id() const override { return cfg.end_id; }
    // Greedy decoding, keeping the attention weights of every step for attention_map().
    IndexTensor generate(const IndexTensor& src, int start_id, int length) override;
    // The attention weights of the last generate(): (B, length, S), row t = where step t looked.
    const Tensor& attention_map() const { return attention_map_; }
    const AttentionConfig& config() const { return cfg; }

    AttentionEncoder encoder;
    AttentionDecoder decoder;

  private:
    AttentionConfig cfg;
    Tensor attention_map_;
    std::vector<Tensor> step_weights_;  // every decoding step's attention weights (R, 1, S), since the last generate()
};

}  // namespace s2a

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
#pragma once

#include "models/seq2seq.h"
#include "nn/attention.h"
#include "nn/stacked_lstm.h"

namespace s2a {

enum class Wiring { Luong, Bahdanau };
Wiring parse_wiring(const std::string& name);  // "luong" or "bahdanau"

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
};

// What a stack of LSTM layers carries from one step to the next: every layer's state, and the stack's
// output s (the residual sum, when there is one), which no single layer's state holds.
struct StackState {
    std::vector<LSTMState> layers;  // one (h, c) per layer, each (B, H)
    Var out;                        // s: (B, H)
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
    Var forward(const IndexTensor& tgt_in, const Var& hs, const Tensor* mask, StackState state);
    // One generation step: prev (B) → logits (B, V); `state` advances; weights (B, 1, S) of this step in `a`.
    Var step(const IndexTensor& prev, const Var& hs, const Var& keys, const Tensor* mask, StackState& state, Tensor* a);
    Var keys(const Var& hs) const { return attention.weight.keys(hs); }

    Attention attention;

  private:
    // Bahdanau: one step given the embedded previous token x (B, E) → the output layer's input [s; c] (B, 2H).
    Var bahdanau_step(const Var& x, const Var& hs, const Var& keys, const Tensor* mask, StackState& state);

    AttentionConfig cfg;
    Embedding embed;
    StackedLSTM lstm;
    Linear out;
};

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

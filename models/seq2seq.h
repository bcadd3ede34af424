// models/seq2seq.h — the plain encoder-decoder of chapter 1, and the interface every seq2seq model shares.
//
// Dimensions: B batch, S source length, T decoder steps (target length without the start symbol),
// V vocabulary, E embedding size, H hidden size.
//
// The encoder reads the source and keeps only its last hidden state h (B, H): that single vector is the only
// link between the two halves. The decoder starts its LSTM from h and, at each step, predicts the next
// answer character from the previous one (given during training: "teacher forcing"; its own guess during
// generation). The peeky decoder also shows h to every step: it is concatenated to each step's LSTM input
// and to the output layer's input, so the encoder's message cannot fade as the decoder runs.
#pragma once

#include <memory>

#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/lstm.h"

namespace s2a {

// What the training loop and the evaluation need from any sequence-to-sequence model.
class Seq2seqModel : public Module {
  public:
    // Teacher forcing: the mean cross-entropy of predicting tgt[:, 1:] from src and tgt[:, :-1].
    // src: (B, S), tgt: (B, T + 1) beginning with the start symbol.
    virtual Var loss(const IndexTensor& src, const IndexTensor& tgt) = 0;
    // Greedy decoding of `length` tokens after the start symbol, the whole batch at once → (B, length).
    virtual IndexTensor generate(const IndexTensor& src, int start_id, int length) = 0;
};

class Encoder : public Module {
  public:
    Encoder(int V, int E, int H, Rng& rng);
    // src (B, S) → hs (B, S, H), the hidden state after every source step.
    Var forward(const IndexTensor& src) const;

    Embedding embed;
    LSTM lstm;
};

// The decoder of the plain seq2seq; PeekyDecoder below changes what each step sees.
class Decoder : public Module {
  public:
    Decoder(int V, int E, int H, Rng& rng);
    // Teacher forcing: tgt_in (B, T) and the encoder's message h_enc (B, H) → logits (B, T, V).
    virtual Var forward(const IndexTensor& tgt_in, const Var& h_enc) const;
    // One generation step: the previous tokens (B) and the running state → logits (B, V).
    virtual Var step(const IndexTensor& prev, const Var& h_enc, LSTMState& state) const;

  protected:
    Decoder(int V, int E, int H, int lstm_in, int out_in, Rng& rng);

    Embedding embed;
    LSTM lstm;
    Linear out;
};

class PeekyDecoder : public Decoder {
  public:
    PeekyDecoder(int V, int E, int H, Rng& rng);
    // The same as Decoder, with h_enc concatenated to every LSTM input [e_t; h_enc] (E + H) and to every
    // output-layer input [h_t; h_enc] (2H).
    Var forward(const IndexTensor& tgt_in, const Var& h_enc) const override;
    Var step(const IndexTensor& prev, const Var& h_enc, LSTMState& state) const override;
};

// What the encoder hands the decoder: its last hidden state (chapter 1), or the plain average of all its
// hidden states hs (chapter 2's first, naive attempt to use more than the last one).
enum class Summary { Last, Mean };

class Seq2seq : public Seq2seqModel {
  public:
    Seq2seq(int V, int E, int H, bool peeky, Rng& rng, Summary summary = Summary::Last);
    Var loss(const IndexTensor& src, const IndexTensor& tgt) override;
    IndexTensor generate(const IndexTensor& src, int start_id, int length) override;

    // hs (B, S, H) → the message h_enc (B, H) the decoder starts from (and peeks at).
    Var summarize(const Var& hs) const;

    Encoder encoder;
    std::unique_ptr<Decoder> decoder;

  private:
    Summary summary_;
};

// Columns [begin, end) of a (B, L) id matrix: tgt[:, :-1] and tgt[:, 1:] in training.
IndexTensor columns(const IndexTensor& ids, int begin, int end);

}  // namespace s2a

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

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/decoding.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/lstm.h"

namespace s2a {

// The end of an answer. With an end symbol end_id (the chapters use the padding ' '), an answer ends at its
// first end_id: the loss counts the answer and that one end symbol and ignores the padding after it (nothing
// to learn there), and decoding writes end_id at every step after it. With end_id = -1 (the textbook's
// fixed-width answers) every one of the T positions is an ordinary token.
// tgt[:, 1:] with every position after a row's first end_id set to -1, cross_entropy's ignore_index:
// tgt (B, T + 1) → targets (B, T).
IndexTensor answer_targets(const IndexTensor& tgt, int end_id);

// Scheduled sampling (Bengio et al., 2015). Teacher forcing trains the decoder on the true previous tokens
// only, but it writes its answers from its own: one early mistake puts it where training never took it
// (exposure bias). Scheduled sampling gives each decoder step t ≥ 1, in training, the true previous token
// with probability ε and the model's own token otherwise (its most probable, or one drawn from its softmax),
// and lowers ε as training goes on (SamplingSchedule). The gradient does not flow through the choice of a
// token: the model's token is an input, like the teacher's.
struct ScheduledSampling {
    double epsilon = 1;          // ε: the probability of the true previous token (1: teacher forcing)
    bool argmax = false;         // the model's own token: its most probable (true), or a sample (false)
    std::vector<bool> teacher;   // if not empty, the choices fixed (B·T, row-major, true: the teacher's token)
                                 // instead of drawn: for gradient checks. Column t = 0 (the start symbol) is unused.
    uint64_t seed = 1;           // the coin flips' and samples' Rng
};

// Bengio et al.'s three decays of ε over training step i ≥ 0 (the chapter counts epochs):
//   linear            ε_i = max(floor, k - c·i)
//   exponential       ε_i = k^i                    (k < 1)
//   inverse sigmoid   ε_i = k / (k + exp(i / k))   (k ≥ 1)
enum class Decay { Linear, Exponential, InverseSigmoid };
Decay parse_decay(const std::string& name);  // "linear", "exponential" or "inverse-sigmoid"
struct SamplingSchedule {
    Decay decay = Decay::Linear;
    double k = 1, c = 0.1, floor = 0;
    double epsilon(int i) const;
};

// What the training loop and the evaluation need from any sequence-to-sequence model.
class Seq2seqModel : public Module {
  public:
    // The mean cross-entropy of predicting tgt[:, 1:] from src and the decoder's inputs: tgt[:, :-1] (teacher
    // forcing), or in training under scheduled sampling a mix of it and the model's own tokens.
    // src: (B, S), tgt: (B, T + 1) beginning with the start symbol.
    virtual Var loss(const IndexTensor& src, const IndexTensor& tgt) = 0;
    // The model's decoder ready to decode src (B, S) for R = B · copies rows, row b·copies + j a copy of
    // sentence b: step gives log-probabilities (R, V), reorder moves the state's rows (models/decoding.h).
    virtual DecoderSteps steps(const IndexTensor& src, int copies) = 0;
    // The symbol that ends an answer, -1 for none.
    virtual int end_id() const = 0;

    // Greedy decoding of `length` tokens after the start symbol, the whole batch at once → (B, length);
    // after a row's end symbol, only end symbols. Always in evaluation mode (no dropout).
    virtual IndexTensor generate(const IndexTensor& src, int start_id, int length);
    // Beam search with k hypotheses per sentence and the length penalty α (models/decoding.h): the best
    // answers (B, length); nbest() gives the n-best lists with their scores too. k = 1 is greedy decoding.
    IndexTensor beam_search(const IndexTensor& src, int start_id, int length, int k, Real alpha);
    BeamResult nbest(const IndexTensor& src, int start_id, int length, int k, Real alpha);

    // The decoder's inputs during training (the chapter sets ε per epoch); teacher forcing by default.
    void set_sampling(const ScheduledSampling& s);
    const ScheduledSampling& sampling() const { return sampling_; }

  protected:
    // True in training mode when scheduled sampling may replace some of the decoder's inputs.
    bool sampling_on() const { return training() && (sampling_.epsilon < 1 || !sampling_.teacher.empty()); }
    // Draws (or takes the fixed) choices for a batch: (B·T) flags, true where step t reads the teacher's token.
    std::vector<bool> teacher_choices(int B, int T);
    // The decoder's input at step t ≥ 1: tgt_in[:, t] where teacher[b·T + t], else the model's own token from
    // logits (B, V), its prediction at step t - 1 → (B).
    IndexTensor step_inputs(const IndexTensor& tgt_in, int t, const std::vector<bool>& teacher, const Tensor& logits);
    // A decoder run step by step under scheduled sampling: step(prev (B)) → logits (B, V), the decoder's
    // state kept by the caller; tgt_in (B, T) → logits (B, T, V).
    Var sampled_logits(const IndexTensor& tgt_in, const std::function<Var(const IndexTensor&)>& step);

  private:
    ScheduledSampling sampling_;
    Rng sampling_rng_{1};
};

// Greedy decoding of many sources (N, S), `batch` at a time, the batches shared among the cores: replica r
// decodes batches r, r + R, r + 2R, … on a core of its own, every product of it on that core. One model decoding
// alone splits each product between the cores instead, and a decoder step's products (B rows by H) are so small
// that the cores spend much of the step waiting for each other; whole batches per core never wait. The
// replicas must hold the same weights (copy_parameters, nn/module.h); each batch's answers are the same bits
// whichever replica writes them, so the result (N, length) is replicas[0]->generate of each batch, stacked.
// Throws std::invalid_argument for no replicas, a null one, one model given twice, sources that are not (N, S)
// or batch < 1.
IndexTensor generate_batches(const std::vector<Seq2seqModel*>& replicas, const IndexTensor& sources, int batch,
                             int start_id, int length);

// Evaluation mode (no dropout) for as long as it lives, whatever mode the model was in; restored afterwards.
class EvalMode {
  public:
    explicit EvalMode(Module& m) : m_(m), was_training_(m.training()) { m_.eval(); }
    ~EvalMode() { m_.train(was_training_); }
    EvalMode(const EvalMode&) = delete;
    EvalMode& operator=(const EvalMode&) = delete;

  private:
    Module& m_;
    bool was_training_;
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
    // end_id: the symbol that ends an answer, -1 for the textbook's fixed-width answers.
    Seq2seq(int V, int E, int H, bool peeky, Rng& rng, Summary summary = Summary::Last, int end_id = -1);
    Var loss(const IndexTensor& src, const IndexTensor& tgt) override;
    DecoderSteps steps(const IndexTensor& src, int copies) override;
    int end_id() const override { return end_id_; }

    // hs (B, S, H) → the message h_enc (B, H) the decoder starts from (and peeks at).
    Var summarize(const Var& hs) const;
    Summary summary_kind() const { return summary_; }

    Encoder encoder;
    std::unique_ptr<Decoder> decoder;

  private:
    Summary summary_;
    int end_id_;
};

// Columns [begin, end) of a (B, L) id matrix: tgt[:, :-1] and tgt[:, 1:] in training.
IndexTensor columns(const IndexTensor& ids, int begin, int end);

}  // namespace s2a

// models/decoding.h — writing answers one token at a time, for any sequence-to-sequence model: greedy
// decoding and beam search, over a step function the model supplies, and the row helpers a model needs to
// keep its decoder state in step with the hypotheses.
//
// Dimensions:
//   B  batch: sentences decoded at once     k  beam size: hypotheses kept per sentence
//   R  rows decoded at once: B for greedy decoding, B·k for beam search (row b·k + j: sentence b's hypothesis j)
//   V  vocabulary                           L  tokens written after the start symbol
//
// What the model provides. A step function: the tokens just written, prev (R), → log-probabilities of the
// next token (R, V). The model keeps its own decoder state for the R rows (an LSTM's hidden state, a
// Transformer's cached keys and values) and advances it by one step at each call. Beam search also needs a
// reorder function: after each step every hypothesis continues one of the step's hypotheses, its parent, and
// the model moves its state's rows with them (row r becomes a copy of row parents[r]).
//
// The end of an answer. With end_id >= 0, a row that has written end_id writes end_id at every later step,
// at no cost to its score; with end_id = -1 every step is an ordinary token.
//
// Beam search (Wu et al., 2016): each sentence keeps the k hypotheses of highest
//   key = log P(tokens) / lp(L),   lp(L) = ((5 + L) / 6)^α,
// L the hypothesis's length up to and including its end symbol. α = 0 ranks by log P alone, which favours
// short answers (every token lowers log P); α ≈ 0.6..1 evens that out. Ties go to the more probable step, then
// to the lower row and token, so that k = 1 is exactly greedy decoding. When the search ends, each sentence's
// k hypotheses, ranked by that key, are its n-best list.
#pragma once

#include <functional>
#include <vector>

#include "autodiff/tape.h"

namespace s2a {

// prev (R) → log-probabilities of the next token (R, V); advances the model's state by one step.
using DecodeStep = std::function<Tensor(const IndexTensor& prev)>;
// Row r of the model's decoder state becomes a copy of row parents[r] (R entries).
using ReorderRows = std::function<void(const std::vector<int>& parents)>;

// What every decoding loop is asked to do.
struct DecodeTask {
    int batch = 0;     // B sentences
    int start_id = 0;  // the symbol the decoder is given first
    int length = 0;    // L: tokens to write after it
    int end_id = -1;   // the symbol that ends an answer (-1: none)
};

// A model's decoder, ready to write answers for R rows: its step and reorder functions, which share the
// state they work on (the encoded source, the decoder's state) and keep it alive. Seq2seqModel::steps makes one.
struct DecoderSteps {
    DecodeStep step;
    ReorderRows reorder;
};

// One hypothesis of a finished beam search.
struct Hypothesis {
    std::vector<int> tokens;  // L tokens; after the end symbol, more end symbols
    double log_prob = 0;      // log P(tokens), the end symbol included, the forced ones after it not
    double key = 0;           // log_prob / lp(length): what the search ranked it by
    int length = 0;           // up to and including the end symbol
};

// What beam search returns: each sentence's best answer (B, L), and its n-best list, best first (up to k).
struct BeamResult {
    IndexTensor best;
    std::vector<std::vector<Hypothesis>> nbest;  // B lists
};

// At each step the most probable token of each row (the first of equals), for R = B rows → (B, L).
IndexTensor greedy_decode(const DecodeTask& task, const DecodeStep& step);
// Beam search with k hypotheses per sentence; step and reorder work on R = B·k rows, whose state starts as k
// copies of each sentence's (row b·k + j a copy of sentence b) → the best hypothesis of each sentence (B, L) and
// the n-best lists. Throws std::invalid_argument if k < 1.
BeamResult beam_search(const DecodeTask& task, int k, Real alpha, const DecodeStep& step, const ReorderRows& reorder);

// Rows `rows` of x (R, ...) → (rows.size(), ...): a reorder of decoder state, or k copies of each sentence.
Tensor take_rows(const Tensor& x, const std::vector<int>& rows);
IndexTensor take_rows(const IndexTensor& x, const std::vector<int>& rows);
// The same for a value of the tape, as a constant: decoder state moves outside the tape (decoding needs no gradients).
// Rows 0, 1, …, R-1 give x itself, not a copy.
Var take_rows(const Var& x, const std::vector<int>& rows);
// Each of B rows repeated `copies` times in a row: row b · copies + j is a copy of row b.
std::vector<int> repeated_rows(int B, int copies);

}  // namespace s2a

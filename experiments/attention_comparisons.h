// experiments/attention_comparisons.h — what chapter 3 adds to the harness of side_by_side.h: its model as the
// flags give it (score function, wiring, encoder), and the comparisons the flags ask for, each trained side by
// side on the same batches: chapter 1's models, every score function, and chapter 2's bottleneck experiment
// (copying strings of growing length) redone with attention.
//
// Why here and not in the chapter: the chapter tells one story, the attention model on dates; a comparison is a
// second story about that model, with a table of its own, told only when a flag asks for it.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden.
#pragma once

#include <memory>
#include <string>

#include "data/dataset.h"
#include "experiments/side_by_side.h"
#include "io/cli.h"
#include "models/attention_seq2seq.h"

namespace s2a {

// Chapter 3's model as its flags give it (E and H are the shared flags', V and the padding the vocabulary's).
struct AttentionFlags {
    std::string score = "dot";     // how the decoder's state h is scored against each hsₛ (nn/attention.h)
    std::string wiring = "luong";  // attend after the decoder's LSTM, or before it with the context fed in
    bool bidirectional = false;    // each hsₛ a forward and a backward LSTM's states, H/2 each

    // Registers --score, --wiring and --bidirectional, in this order.
    void add_to(Cli& cli);
};

// The model of these flags for `vocab`: attention_config (experiments/attention.h) with a's score, wiring and
// encoder. Throws std::invalid_argument naming an unknown score or wiring.
std::unique_ptr<AttentionSeq2seq> attention_model(const TrainingFlags& f, const AttentionFlags& a, const Vocab& vocab, Rng& rng);

// The comparisons a chapter 3 run may add after its main model.
struct ComparisonFlags {
    bool baselines = false;  // chapter 1's models on the same dates
    bool scores = false;     // one model per score function
    bool lengths = false;    // exact match by input length on the copy task

    // Registers --baselines, --scores and --lengths, in this order.
    void add_to(Cli& cli);
};

// Each comparison trains its models with train_side_by_side for f.epochs (lengths: 6, or 1 with --quick), an
// epoch of a contender being `one_epoch` (the chapter's training loop), and prints the table of test exact match.

// Chapter 1's reversed and peeky+reversed models (E and H of f) on the same dates and batches as the attention
// model: what attention buys over a decoder that sees only the encoder's last state.
void baselines_experiment(const TrainingFlags& f, const Split& sets, const Vocab& vocab, const Epoch& one_epoch);

// One model of `a` per score function (dot, general, additive, concat) on the same batches, each drawn from
// Rng(f.seed): the embeddings and LSTMs start identical, only the score differs (so "dot" is the main model
// again, when --score is dot). Then each score's final exact match and training time.
void scores_experiment(const TrainingFlags& f, const AttentionFlags& a, const Split& sets, const Vocab& vocab,
                       const Epoch& one_epoch);

// Chapter 2's bottleneck experiment with attention: strings of kCopyMinLength..kCopyMaxLength letters copied
// (20000 examples, 2000 of them for testing; --quick: 2000 and 200) by `a`'s model with the dot score; exact
// match by input length, printed and drawn at OUT/ch3_by_length.svg: chapter 2's table, now for a decoder that
// can read every hsₛ instead of one fixed-size summary.
void lengths_experiment(const TrainingFlags& f, const AttentionFlags& a, const Epoch& one_epoch);

}  // namespace s2a

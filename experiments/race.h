// experiments/race.h — training for a fixed amount of processor time, and a race of several models for the
// same time (chapter 5: the Transformer against chapter 3's model, race_transformer_against_lstm with its flags).
//
// The Trainer walks through a contender's batches across epoch boundaries (a fresh shuffle at the end of
// each epoch), one train_step (models/train.h) per batch, and stops when a time budget is spent.
//
// Two clocks. Wall time is what a learner waits; processor time (the process's CPU time, all its threads) is
// the work done. On a machine shared with other programs the two differ, by a different factor from minute
// to minute, so a race for equal wall time would be decided by the neighbours. train_for therefore counts
// processor time; both are reported.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "experiments/ask.h"
#include "experiments/side_by_side.h"
#include "experiments/transformer.h"

namespace s2a {

class Trainer {
  public:
    // The contender (its model, optimizer with any schedule, training batches and shuffle) must outlive the Trainer.
    Trainer(Contender& contender, Real clip);

    // Trains until `seconds` more of processor time have been spent on training steps (at least one step);
    // returns the mean loss of those steps. A progress bar counting those seconds goes to `progress`.
    double train_for(double seconds, const std::string& label, std::FILE* progress = stderr);

    int64_t steps() const { return c_.optimizer->steps(); }  // one optimizer step per training step
    double seconds() const { return seconds_; }          // wall time of the training steps so far (not evaluation)
    double cpu_seconds() const { return cpu_seconds_; }  // processor time of the same steps
    double epochs() const;                               // epochs so far, fractional
    double tokens_per_s() const { return seconds_ > 0 ? tokens_ / seconds_ : 0; }  // source + target tokens

  private:
    double step();  // one batch; returns its loss

    Contender& c_;  // its batch is the next batch of the current epoch
    Real clip_;
    int epochs_ = 0;  // epochs done
    double seconds_ = 0, cpu_seconds_ = 0, tokens_ = 0;
};

// Trains every contender for `seconds` of processor time, in `checkpoints` turns, printing test exact match
// (greedy decoding) after each turn. Taking turns evens out what is left of a shared machine's noise. Ctrl-C
// stops it between two steps with status 130; a race for processor time is not resumed (run it again).
void race(std::vector<Contender>& cs, std::vector<Trainer>& trainers, double seconds, int checkpoints);

// After the race: a table of every contender's parameters, steps, epochs, processor and wall time, tokens/s,
// exact match and BLEU on `test` (greedy decoding); exact match by string length (right-aligned questions,
// buckets of `bucket`); and the accuracy after each turn against training time, drawn at `curve_path`.
void report_race(std::vector<Contender>& cs, const std::vector<Trainer>& trainers, double seconds, const TextData& test,
                 const Vocab& vocab, int bucket, const std::string& task, const std::string& out);

// ---------------------------------------------------------------- chapter 5's race

// Chapter 5's part 2 as its flags give it: the harder task, the race's Transformer (the dates' flags with these
// D, F, dropout and warm-up) and the clock.
struct RaceFlags {
    std::string task = "reverse";                  // reverse or sort (data/tasks_hard.h); ch5's --task sets it
    int min_len = 8, max_len = 50, examples = 50000, test = 1000;  // the strings' lengths, training and test examples
    int D = 64, F = 256, batch = 64, warmup = 200;  // the Transformer's sizes and warm-up; the batch is both models'
    double dropout = 0;
    double seconds = 150;                          // processor time of each model
    int checkpoints = 5;                           // evaluations along the way
    bool lstm_reversed = false;                    // chapter 3's model reads the source reversed

    // Registers --race-d-model, --race-ffn, --race-batch, --race-dropout, --race-warmup and --lstm-reversed, then
    // `ask`'s flags without --beam and --alpha (ch5's own serve them), then --min-len, --max-len, --race-examples,
    // --race-test, --seconds and --checkpoints: ch5's --help order. And, checked after ask's rules, the rule that
    // --heads divides both Transformers' widths (`model`'s --d-model and --race-d-model: each head takes an equal
    // slice) and that --min-len does not exceed --max-len.
    void add_to(Cli& cli, const TransformerFlags& model, AskFlags& ask);
    // --quick: short strings, a second of training each, and a smaller Transformer; a size given on the
    // command line (`flags` knows which) keeps its value, so --quick --seconds 0 skips the race.
    void quick_sizes(const TrainingFlags& flags);
};

// Chapter 5's part 2 (its section 3): the harder task's strings, right-aligned; the race's Transformer and
// chapter 3's model (E, H and Adam's lr from `f`: Luong wiring, dot score, the source read as written unless
// r.lstm_reversed) trained for r.seconds of processor time each; report_race's table, curves and exact match by
// length; every head of the Transformer drawn (OUT/ch5_TASK_heads.svg).
void race_transformer_against_lstm(const RaceFlags& r, const TransformerFlags& model, const TrainingFlags& f);

}  // namespace s2a

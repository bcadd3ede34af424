// models/transformer_train.h — training with a learning-rate schedule, and for a fixed amount of time.
//
// train_epoch (models/train.h) runs whole epochs at one learning rate. The Transformer wants its learning
// rate set before every step (models/schedule.h), and chapter 5 races two models for the same wall time.
// So the Trainer walks through the batches across epoch boundaries (a fresh shuffle at the start of each
// epoch) and stops when told: after some seconds of training, or at the end of the current epoch. Each step
// is train_epoch's: forward (teacher forcing), backward, clip the global gradient norm, update, clear the tape.
//
// Two clocks. Wall time is what a learner waits; processor time (the process's CPU time, all its threads) is
// the work done. On a machine shared with other programs the two differ, by a different factor from minute
// to minute, so a race for equal wall time would be decided by the neighbours. train_for therefore counts
// processor time; both are reported.
#pragma once

#include <cstdio>
#include <string>

#include "data/dataset.h"
#include "models/schedule.h"
#include "models/seq2seq.h"
#include "nn/optim.h"

namespace s2a {

class Trainer {
  public:
    // schedule may be null: the optimizer keeps the learning rate it has. The references must outlive the Trainer.
    Trainer(Seq2seqModel& model, Batcher& data, Optimizer& opt, Real clip, const WarmupSchedule* schedule, uint64_t seed);

    // Trains until `seconds` more of processor time have been spent on training steps (at least one step);
    // returns the mean loss of those steps. A progress bar counting those seconds goes to `progress`.
    double train_for(double seconds, const std::string& label, std::FILE* progress = stderr);
    // Trains to the end of the current epoch (a whole epoch when called at its start); returns the mean loss.
    double train_epoch(const std::string& label, std::FILE* progress = stderr);

    int64_t steps() const { return steps_; }
    double seconds() const { return seconds_; }          // wall time of the training steps so far (not evaluation)
    double cpu_seconds() const { return cpu_seconds_; }  // processor time of the same steps
    double epochs() const;                       // epochs so far, fractional
    double tokens_per_s() const { return seconds_ > 0 ? tokens_ / seconds_ : 0; }  // source + target tokens

  private:
    double step();  // one batch; returns its loss

    Seq2seqModel& model_;
    Batcher& data_;
    Optimizer& opt_;
    Real clip_;
    const WarmupSchedule* schedule_;
    Rng rng_;
    int batch_ = 0;  // the next batch of the current epoch
    int epoch_ = 0;  // epochs started
    int64_t steps_ = 0;
    double seconds_ = 0, cpu_seconds_ = 0, tokens_ = 0;
};

}  // namespace s2a

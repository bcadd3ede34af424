// models/transformer_train.h — training with a learning-rate schedule, and for a fixed amount of time.
//
// train_epoch (models/train.h) runs whole epochs at one learning rate. The Transformer wants its learning
// rate set before every step (models/schedule.h), and chapter 5 races two models for the same wall time.
// So the Trainer walks through the batches across epoch boundaries (a fresh shuffle at the start of each
// epoch) and stops when told: after some seconds of training, or at the end of the current epoch. Each step
// is train_epoch's: forward (teacher forcing), backward, clip the global gradient norm, update, clear the tape.
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

    // Trains until `seconds` more of training time have passed (at least one step); returns the mean loss
    // of those steps. A progress bar counting the seconds goes to `progress` (nullptr for none).
    double train_for(double seconds, const std::string& label, std::FILE* progress = stderr);
    // Trains to the end of the current epoch (a whole epoch when called at its start); returns the mean loss.
    double train_epoch(const std::string& label, std::FILE* progress = stderr);

    int64_t steps() const { return steps_; }
    double seconds() const { return seconds_; }  // training time so far: steps only, never evaluation
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
    double seconds_ = 0, tokens_ = 0;
};

}  // namespace s2a

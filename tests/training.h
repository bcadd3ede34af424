// tests/training.h — one epoch of training as the chapters write it, for the tests that train a model.
#pragma once

#include "data/dataset.h"
#include "models/train.h"

namespace s2a {

// A fresh order of the batches, one train_step per batch; returns the epoch's mean loss.
inline double train_one_epoch(Seq2seqModel& model, Batcher& batches, Optimizer& opt, Real clip, Rng& shuffle) {
    double loss = 0;
    batches.shuffle(shuffle);
    for (int i = 0; i < batches.num_batches(); ++i) loss += train_step(model, batches.batch(i), opt, clip);
    return loss / batches.num_batches();
}

}  // namespace s2a

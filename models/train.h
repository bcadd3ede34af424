// models/train.h — the training loop and the exact-match evaluation every seq2seq chapter uses.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/seq2seq.h"
#include "nn/optim.h"

namespace s2a {

struct EpochStats {
    double loss = 0;          // mean training loss over the epoch
    double seconds = 0;       // wall time of the epoch
    double tokens_per_s = 0;  // (source + target tokens) per second
};

// One pass over the training set in a freshly shuffled order; for each batch: forward (teacher forcing),
// backward, clip the gradients' global norm to `clip`, one optimizer step, clear the tape. A progress bar
// (label, step, loss, tokens/s, time left) goes to `progress` (stderr by default, so a program's results
// on stdout stay clean; nullptr for none): live on a terminal, a few plain lines otherwise. A non-finite
// loss stops training with an error naming the step, rather than training on NaN. With `steps_done`, each
// finished step also adds 1 there: for a caller that draws one bar for several loops running at once.
EpochStats train_epoch(Seq2seqModel& model, Batcher& train, Optimizer& opt, Real clip, Rng& rng,
                       const std::string& label, std::FILE* progress = stderr,
                       std::atomic<int64_t>* steps_done = nullptr);

// The fraction of examples whose whole generated answer equals the target, decoded greedily a batch at a time.
// With `predictions`, also returns every generated answer (ids, one vector per example, in batch order).
double exact_match(Seq2seqModel& model, const Batcher& data, int start_id,
                   std::vector<std::vector<int>>* predictions = nullptr);

}  // namespace s2a

// models/schedule.h — the Transformer's learning-rate schedule: a linear warm-up, then decay as 1/√step.
//
//   lr(step) = factor · D^-0.5 · min(step^-0.5, step · warmup^-1.5)          (Vaswani et al., 2017, eq. 3)
//
// For step < warmup the second term is the smaller: lr grows linearly from 0. At step = warmup both terms are
// warmup^-0.5, the peak: lr = factor / √(D · warmup). After it lr falls as 1/√step, so at 4 · warmup it is
// half the peak. Why warm up at all: Adam's second-moment estimates v start from a handful of gradients, so
// its first steps are large and noisy in direction; in a post-norm Transformer such steps blow up the
// residual stream before the layer norms' statistics settle. Small steps first let both settle.
// The D^-0.5 makes wider models take smaller steps; `factor` is the one knob left (the paper: 1).
#pragma once

#include <cstdint>

#include "autodiff/tensor.h"

namespace s2a {

class WarmupSchedule {
  public:
    // Throws std::invalid_argument unless factor > 0, D > 0 and warmup > 0.
    WarmupSchedule(Real factor, int D, int warmup);
    // The learning rate of step `step`, counting from 1 (step 0 is taken as 1).
    Real lr(int64_t step) const;
    Real peak() const { return lr(warmup_); }  // factor / √(D · warmup)
    int warmup() const { return warmup_; }

  private:
    Real factor_;
    int D_, warmup_;
};

}  // namespace s2a

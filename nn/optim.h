// nn/optim.h — optimizers (SGD with momentum, Adam), the Transformer's learning-rate schedule, and
// gradient-norm clipping.
//
// An optimizer holds the model's parameters (the same Vars the model computes with, so updating their
// values updates the model) and, for each, whatever running state its rule needs. One training step is
//     optimizer.zero_grad();    // gradients accumulate (+=), so clear last step's
//     backward(loss);           // fill every parameter's grad
//     clip_grad_norm(params, 1);   // optional: tame the occasional exploding step (RNNs need this)
//     optimizer.step();         // move every parameter against its gradient
// A parameter that has no gradient yet (the loss never depended on it) is skipped by step().
//
// Notation: θ a parameter, g = ∂loss/∂θ its gradient, η the learning rate, t the step number (from 1).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tape.h"

namespace s2a {

// The Transformer's learning-rate schedule: a linear warm-up, then decay as 1/√step. Given to an optimizer
// with set_schedule(), it sets the learning rate before every step:
//
//   lr(step) = factor · D^-0.5 · min(step^-0.5, step · warmup^-1.5)          (Vaswani et al., 2017, eq. 3)
//
// For step < warmup the second term is the smaller: lr grows linearly from 0. At step = warmup both terms are
// warmup^-0.5, the peak: lr = factor / √(D · warmup). After it lr falls as 1/√step, so at 4 · warmup it is
// half the peak. Why warm up at all: Adam's second-moment estimates v start from a handful of gradients, so
// its first steps are large and noisy in direction; in a post-norm Transformer such steps blow up the
// residual stream before the layer norms' statistics settle. Small steps first let both settle.
// The D^-0.5 makes wider models take smaller steps; `factor` is the one knob left (the paper: 1).
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

// What an optimizer must keep for a run to stop and continue exactly as if it had not stopped: its step
// count (which also places a learning-rate schedule) and its rule's running state: per parameter, one tensor
// of the parameter's shape for each kind of state ("m" and "v" for Adam) and one counter for each kind of
// count ("t", Adam's steps of each parameter). Saved beside the weights (io/checkpoint.h: save_resumable).
struct OptimizerState {
    uint64_t steps = 0;
    std::vector<std::pair<std::string, std::vector<Tensor>>> tensors;     // {"m", one per parameter}, ...
    std::vector<std::pair<std::string, std::vector<uint64_t>>> counters;  // {"t", one per parameter}, ...
};

class Optimizer {
  public:
    virtual ~Optimizer() = default;
    // One update of every parameter that has a gradient; with a schedule, the learning rate is first set to
    // the schedule's rate for this step (counting from 1).
    void step();
    void zero_grad();  // sets every parameter's gradient to 0

    void set_lr(Real lr);  // lr must be >= 0; a schedule overrides it at the next step
    void set_schedule(const WarmupSchedule& schedule) { schedule_ = schedule; }
    Real lr() const { return lr_; }
    // How many times step() has run. Atomic: a progress bar on another thread may read it while training runs.
    int64_t steps() const { return steps_; }
    const std::vector<Var>& params() const { return params_; }

    // The state a resumed run needs (see OptimizerState), copied out.
    OptimizerState state() const;
    // Takes over a saved state. It must have this optimizer's kinds of state, with one tensor of each
    // parameter's shape, all finite; otherwise throws std::runtime_error naming the state and the parameter, and
    // nothing is changed. The learning rate is not part of it: set_lr() or the schedule decide it.
    void set_state(const OptimizerState& s);

  protected:
    // Throws std::invalid_argument for an undefined Var, a constant, or a parameter given twice
    // (which would be updated twice per step).
    Optimizer(std::vector<Var> params, Real lr);
    virtual void update() = 0;  // the rule itself: θ ← θ - η · (what the optimizer makes of g)
    // The rule's running state, by kind, as references into the optimizer (so set_state can write it).
    virtual std::vector<std::pair<std::string, std::vector<Tensor>*>> state_tensors() { return {}; }
    virtual std::vector<std::pair<std::string, std::vector<int64_t>*>> state_counters() { return {}; }

    std::vector<Var> params_;
    Real lr_;
    std::optional<WarmupSchedule> schedule_;
    std::atomic<int64_t> steps_{0};
};

// Stochastic gradient descent, with optional (heavy-ball) momentum μ:
//     v ← μ v + g         (v starts at 0: an exponentially decaying sum of past gradients)
//     θ ← θ - η v
// With μ = 0 this is plain θ ← θ - η g.
class SGD : public Optimizer {
  public:
    SGD(std::vector<Var> params, Real lr, Real momentum = 0);
    void update() override;

  private:
    std::vector<std::pair<std::string, std::vector<Tensor>*>> state_tensors() override;

    Real momentum_;
    std::vector<Tensor> velocity_;  // one per parameter, same shape (empty when momentum is 0)
};

// Adam (Kingma & Ba, 2015): a step size per element, from running averages of g and g²:
//     m ← β₁ m + (1 - β₁) g          first moment (mean of g), starts at 0
//     v ← β₂ v + (1 - β₂) g²         second moment (mean of g²), starts at 0
//     m̂ = m / (1 - β₁ᵗ),  v̂ = v / (1 - β₂ᵗ)   bias correction: m and v start at 0, so early on they
//                                     underestimate; dividing by 1 - βᵗ (the total weight so far) undoes it
//     θ ← θ - η m̂ / (√v̂ + ε)
// The step is about η in size whatever the scale of g, which is why one learning rate fits most models.
// t counts the steps each parameter has actually taken (a skipped parameter's t does not advance).
class Adam : public Optimizer {
  public:
    Adam(std::vector<Var> params, Real lr = 1e-3, Real beta1 = 0.9, Real beta2 = 0.999, Real eps = 1e-8);
    void update() override;

  private:
    std::vector<std::pair<std::string, std::vector<Tensor>*>> state_tensors() override;
    std::vector<std::pair<std::string, std::vector<int64_t>*>> state_counters() override;
    Real beta1_, beta2_, eps_;
    std::vector<Tensor> m_, v_;  // first and second moments, one per parameter, same shape
    std::vector<int64_t> t_;     // steps taken by each parameter
};

// Rescales the gradients so that their global L2 norm ‖g‖ = √(Σ over all parameters and elements of g²)
// is at most max_norm: when ‖g‖ > max_norm every gradient is multiplied by max_norm / ‖g‖ (the direction
// is kept, only the length shrinks). Parameters without a gradient are ignored. Returns ‖g‖ before
// clipping, worth logging: a growing norm is the first sign of an exploding model.
// Throws std::runtime_error if the norm is NaN or infinite, naming the first parameter whose gradient is
// not finite: a NaN must stop training, not be silently written into every weight.
Real clip_grad_norm(const std::vector<Var>& params, Real max_norm);

}  // namespace s2a

// models/train.h — the one training step every model in this project takes, and exact-match evaluation.
//
// Every training loop (each chapter's, the experiments', the benchmark's) calls train_step once per batch;
// there is no second copy of it anywhere. Its six lines are the whole of supervised training:
//   loss = model.loss(src, tgt)     forward, with teacher forcing: the decoder reads the true previous tokens
//   (stop if loss is not finite)    a NaN must end the run with a message naming the op, not be trained on
//   opt.zero_grad()                 gradients accumulate (+=), so clear the last step's
//   backward(loss)                  the tape, run in reverse: every parameter's ∂loss/∂θ
//   clip_grad_norm(θ, clip)         rescale the gradients if their global norm exceeds `clip`
//   opt.step()                      θ ← θ - η · update (the learning rate from the optimizer's schedule, if any)
// and then the tape is cleared, releasing this step's nodes.
#pragma once

#include <vector>

#include "data/dataset.h"
#include "models/seq2seq.h"
#include "nn/optim.h"

namespace s2a {

// One step on one batch (src (B, S), tgt (B, T + 1) starting with the start symbol); returns the batch's loss.
// If the loss is NaN or infinite, the step is redone with the tape checking every op (the same dropout masks
// drawn), and std::runtime_error names the step and the first op whose output was not finite: its input
// shapes, and the input that already held the bad value or that the op made it from finite inputs. No
// parameter is updated by such a step, nor by one whose gradients are not finite (clip_grad_norm's error, with
// the step). Ctrl-C: throws Interrupted (io/interrupt.h) before the step begins, once
// the handler is installed and the user has pressed it, so a run stops between steps.
double train_step(Seq2seqModel& model, const Batch& batch, Optimizer& opt, Real clip);

// The fraction of examples whose whole generated answer equals the target, decoded greedily a batch at a time.
// With `predictions`, also returns every generated answer (ids, one vector per example, in batch order).
double exact_match(Seq2seqModel& model, const Batcher& data, int start_id,
                   std::vector<std::vector<int>>* predictions = nullptr);

}  // namespace s2a

// models/train.cpp — train_step and exact_match.
#include "models/train.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace s2a {

double train_step(Seq2seqModel& model, const Batch& batch, Optimizer& opt, Real clip) {
    model.train();
    Var loss = model.loss(batch.src, batch.tgt);  // forward, teacher forcing: a scalar
    if (!std::isfinite(loss.item()))
        throw std::runtime_error(fmt::format("the loss became {} at step {}; try a smaller learning rate", loss.item(),
                                             opt.steps() + 1));
    opt.zero_grad();
    backward(loss);
    clip_grad_norm(opt.params(), clip);
    opt.step();
    tape().clear();
    return loss.item();
}

double exact_match(Seq2seqModel& model, const Batcher& data, int start_id, std::vector<std::vector<int>>* predictions) {
    model.eval();
    int correct = 0, total = 0;
    for (int i = 0; i < data.num_batches(); ++i) {
        const Batch batch = data.batch(i);
        const int B = batch.tgt.shape[0], L = batch.tgt.shape[1], T = L - 1;
        const IndexTensor guess = model.generate(batch.src, start_id, T);   // guess: (B, T)
        for (int b = 0; b < B; ++b) {
            const auto first = guess.data.begin() + b * T;
            correct += std::equal(first, first + T, batch.tgt.data.begin() + b * L + 1);
            if (predictions) predictions->emplace_back(first, first + T);
        }
        total += B;
    }
    model.train();
    return total ? static_cast<double>(correct) / total : 0;
}

}  // namespace s2a

// models/train.cpp — train_step and exact_match.
#include "models/train.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "io/interrupt.h"

namespace s2a {

namespace {

// The states of the model's random streams (dropout), to draw the same masks again.
std::vector<uint64_t> random_states(const Module& m) {
    std::vector<uint64_t> states;
    for (const auto& [name, rng] : m.named_randoms()) states.push_back(rng->state());
    return states;
}

void set_random_states(const Module& m, const std::vector<uint64_t>& states) {
    const auto randoms = m.named_randoms();
    for (size_t i = 0; i < randoms.size(); ++i) *randoms[i].second = Rng(states[i]);
}

// Runs the forward pass again, the same masks drawn, with every op checking its output; returns what the
// first op to produce a NaN or an infinity reported (tape.h: set_check_finite).
std::string first_bad_op(Seq2seqModel& model, const Batch& batch, const std::vector<uint64_t>& randoms) {
    tape().clear();
    set_random_states(model, randoms);
    struct CheckFinite {
        CheckFinite() { set_check_finite(true); }
        ~CheckFinite() { set_check_finite(false); }
    } checking;
    try {
        model.loss(batch.src, batch.tgt);
    } catch (const std::runtime_error& e) {
        tape().clear();
        return e.what();
    }
    tape().clear();
    return "every op's output was finite when the step was redone";  // a nondeterministic model
}

}  // namespace

double train_step(Seq2seqModel& model, const Batch& batch, Optimizer& opt, Real clip) {
    stop_if_interrupted();  // Ctrl-C: the last step is complete, this one not begun (io/interrupt.h)
    model.train();
    const std::vector<uint64_t> randoms = random_states(model);  // to redo this very step if it fails
    Var loss = model.loss(batch.src, batch.tgt);  // forward, teacher forcing: a scalar
    if (!std::isfinite(loss.item()))
        throw std::runtime_error(fmt::format("the loss became {} at step {}; redone with every op checked, the first "
                                             "not finite: {}. No parameter was updated; try a smaller learning rate",
                                             loss.item(), opt.steps() + 1, first_bad_op(model, batch, randoms)));
    opt.zero_grad();
    backward(loss);
    try {
        clip_grad_norm(opt.params(), clip);  // throws, naming the parameter, if a gradient is not finite
    } catch (const std::runtime_error& e) {
        tape().clear();
        throw std::runtime_error(fmt::format("step {}: {}. No parameter was updated; try a smaller learning rate",
                                             opt.steps() + 1, e.what()));
    }
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

// models/train.cpp — train_epoch and exact_match.
#include "models/train.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "io/progress.h"

namespace s2a {

EpochStats train_epoch(Seq2seqModel& model, Batcher& train, Optimizer& opt, Real clip, Rng& rng,
                       const std::string& label, std::FILE* progress_out, std::atomic<int64_t>* steps_done) {
    using clock = std::chrono::steady_clock;
    model.train();
    train.shuffle(rng);
    const auto start = clock::now();
    const int steps = train.num_batches();
    std::unique_ptr<Progress> progress;
    if (progress_out) progress = std::make_unique<Progress>(label, steps, progress_out);
    double total_loss = 0, tokens = 0;
    for (int i = 0; i < steps; ++i) {
        const Batch batch = train.batch(i);
        Var loss = model.loss(batch.src, batch.tgt);
        if (!std::isfinite(loss.item()))
            throw std::runtime_error(fmt::format("{}: the loss became {} at step {} of {}; try a smaller learning rate",
                                                 label, loss.item(), i + 1, steps));
        opt.zero_grad();
        backward(loss);
        clip_grad_norm(opt.params(), clip);
        opt.step();
        tape().clear();
        total_loss += loss.item();
        tokens += static_cast<double>(batch.src.numel() + batch.tgt.numel());
        if (steps_done) ++*steps_done;
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        if (progress) progress->update(i + 1, fmt::format("loss {:.4f}  {} tok/s", total_loss / (i + 1), format_rate(tokens / elapsed)));
    }
    EpochStats stats;
    stats.seconds = std::chrono::duration<double>(clock::now() - start).count();
    stats.loss = total_loss / std::max(steps, 1);
    stats.tokens_per_s = tokens / stats.seconds;
    if (progress) progress->finish(fmt::format("loss {:.4f}  {} tok/s", stats.loss, format_rate(stats.tokens_per_s)));
    return stats;
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

// models/transformer_train.cpp — Trainer.
#include "models/transformer_train.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "io/progress.h"

namespace s2a {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double cpu_now() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }  // this process's processor time
}  // namespace

Trainer::Trainer(Seq2seqModel& model, Batcher& data, Optimizer& opt, Real clip, const WarmupSchedule* schedule, uint64_t seed)
    : model_(model), data_(data), opt_(opt), clip_(clip), schedule_(schedule), rng_(seed) {}

double Trainer::epochs() const {
    return epoch_ == 0 ? 0 : epoch_ - 1 + static_cast<double>(batch_) / data_.num_batches();
}

double Trainer::step() {
    if (batch_ == 0 || batch_ == data_.num_batches()) {  // a new epoch: a new order
        data_.shuffle(rng_);
        batch_ = 0;
        ++epoch_;
    }
    const auto start = Clock::now();
    const double cpu_start = cpu_now();
    model_.train();
    const Batch batch = data_.batch(batch_++);
    if (schedule_) opt_.set_lr(schedule_->lr(steps_ + 1));
    Var loss = model_.loss(batch.src, batch.tgt);
    if (!std::isfinite(loss.item()))
        throw std::runtime_error(fmt::format("the loss became {} at step {}; try a smaller learning rate", loss.item(), steps_ + 1));
    opt_.zero_grad();
    backward(loss);
    clip_grad_norm(opt_.params(), clip_);
    opt_.step();
    tape().clear();
    ++steps_;
    seconds_ += since(start);
    cpu_seconds_ += cpu_now() - cpu_start;
    tokens_ += static_cast<double>(batch.src.numel() + batch.tgt.numel());
    return loss.item();
}

double Trainer::train_for(double seconds, const std::string& label, std::FILE* progress_out) {
    std::unique_ptr<Progress> progress;
    const int64_t total = std::max<int64_t>(1, std::llround(seconds));
    if (progress_out) progress = std::make_unique<Progress>(label + " (CPU seconds)", total, progress_out);
    const double start = cpu_seconds_;
    double loss = 0;
    int n = 0;
    do {
        loss += step(), ++n;
        if (progress)
            progress->update(std::min<int64_t>(total, std::llround(cpu_seconds_ - start)),
                             fmt::format("loss {:.4f}  {} tok/s", loss / n, format_rate(tokens_per_s())));
    } while (cpu_seconds_ - start < seconds);
    if (progress) progress->finish(fmt::format("loss {:.4f}  {} steps", loss / n, n));
    return loss / n;
}

double Trainer::train_epoch(const std::string& label, std::FILE* progress_out) {
    // the rest of the current epoch, or a whole new one when the current one is complete
    const int steps = batch_ == data_.num_batches() ? batch_ : data_.num_batches() - batch_;
    std::unique_ptr<Progress> progress;
    if (progress_out) progress = std::make_unique<Progress>(label, steps, progress_out);
    double loss = 0;
    for (int i = 0; i < steps; ++i) {
        loss += step();
        if (progress) progress->update(i + 1, fmt::format("loss {:.4f}  {} tok/s", loss / (i + 1), format_rate(tokens_per_s())));
    }
    if (progress) progress->finish(fmt::format("loss {:.4f}  {} tok/s", loss / steps, format_rate(tokens_per_s())));
    return loss / steps;
}

}  // namespace s2a

// models/schedule.cpp — WarmupSchedule.
#include "models/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace s2a {

WarmupSchedule::WarmupSchedule(Real factor, int D, int warmup) : factor_(factor), D_(D), warmup_(warmup) {
    if (!(factor > 0) || D <= 0 || warmup <= 0)
        throw std::invalid_argument(fmt::format("WarmupSchedule: need factor > 0, D > 0, warmup > 0; got {}, {}, {}", factor, D, warmup));
}

Real WarmupSchedule::lr(int64_t step) const {
    const double s = static_cast<double>(std::max<int64_t>(step, 1));
    // min(s^-0.5, s · warmup^-1.5): the warm-up line and the 1/√s decay meet at s = warmup
    const double shape = std::min(1 / std::sqrt(s), s / std::pow(double(warmup_), 1.5));
    return static_cast<Real>(factor_ / std::sqrt(double(D_)) * shape);
}

}  // namespace s2a

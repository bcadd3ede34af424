// nn/optim.cpp — the update rules. Each loops over a parameter's contiguous value and gradient buffers
// (and its state buffers) with plain pointers: no per-element function calls, no temporary tensors.
#include "nn/optim.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace s2a {

// ---------------------------------------------------------------- WarmupSchedule

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

// ---------------------------------------------------------------- Optimizer

Optimizer::Optimizer(std::vector<Var> params, Real lr) : params_(std::move(params)), lr_(0) {
    std::set<const Node*> seen;
    for (size_t i = 0; i < params_.size(); ++i) {
        const Var& p = params_[i];
        if (!p.defined()) throw std::invalid_argument(fmt::format("optimizer: parameter #{} is an undefined Var", i));
        if (!p.requires_grad())
            throw std::invalid_argument(fmt::format("optimizer: parameter #{} '{}' {} is a constant (make it with parameter())",
                                                    i, p.name(), p.shape().str()));
        if (!seen.insert(p.node()).second)
            throw std::invalid_argument(fmt::format("optimizer: parameter #{} '{}' {} is given twice", i, p.name(),
                                                    p.shape().str()));
    }
    set_lr(lr);
}

void Optimizer::step() {
    if (schedule_) set_lr(schedule_->lr(steps_ + 1));
    update();
    ++steps_;
}

void Optimizer::zero_grad() { s2a::zero_grad(params_); }

void Optimizer::set_lr(Real lr) {
    if (!(lr >= 0)) throw std::invalid_argument(fmt::format("optimizer: the learning rate must be >= 0, got {}", lr));
    lr_ = lr;
}

// ---------------------------------------------------------------- SGD

SGD::SGD(std::vector<Var> params, Real lr, Real momentum) : Optimizer(std::move(params), lr), momentum_(momentum) {
    if (!(momentum >= 0 && momentum < 1))
        throw std::invalid_argument(fmt::format("SGD: momentum must be in [0, 1), got {}", momentum));
    if (momentum_ > 0)
        for (const Var& p : params_) velocity_.emplace_back(p.shape());
}

void SGD::update() {
    for (size_t i = 0; i < params_.size(); ++i) {
        Var p = params_[i];  // a handle (a shared pointer), so its value can be written
        if (!p.has_grad()) continue;
        Real* theta = p.value().ptr();
        const Real* g = p.grad().ptr();
        const int64_t n = p.numel();
        if (momentum_ == 0) {
            for (int64_t k = 0; k < n; ++k) theta[k] -= lr_ * g[k];  // θ ← θ - η g
        } else {
            Real* v = velocity_[i].ptr();
            for (int64_t k = 0; k < n; ++k) {
                v[k] = momentum_ * v[k] + g[k];  // v ← μ v + g
                theta[k] -= lr_ * v[k];          // θ ← θ - η v
            }
        }
    }
}

// ---------------------------------------------------------------- Adam

Adam::Adam(std::vector<Var> params, Real lr, Real beta1, Real beta2, Real eps)
    : Optimizer(std::move(params), lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
    if (!(beta1 >= 0 && beta1 < 1)) throw std::invalid_argument(fmt::format("Adam: beta1 must be in [0, 1), got {}", beta1));
    if (!(beta2 >= 0 && beta2 < 1)) throw std::invalid_argument(fmt::format("Adam: beta2 must be in [0, 1), got {}", beta2));
    if (!(eps >= 0)) throw std::invalid_argument(fmt::format("Adam: eps must be >= 0, got {}", eps));
    for (const Var& p : params_) {
        m_.emplace_back(p.shape());
        v_.emplace_back(p.shape());
    }
    t_.assign(params_.size(), 0);
}

void Adam::update() {
    for (size_t i = 0; i < params_.size(); ++i) {
        Var p = params_[i];  // a handle (a shared pointer), so its value can be written
        if (!p.has_grad()) continue;
        const int64_t t = ++t_[i];
        // The bias corrections 1 - βᵗ, in double: for β₂ = 0.999 and small t, 1 - β₂ᵗ is tiny and float
        // would lose most of its digits.
        const Real c1 = static_cast<Real>(1 - std::pow(double(beta1_), double(t)));
        const Real c2 = static_cast<Real>(1 - std::pow(double(beta2_), double(t)));
        Real* theta = p.value().ptr();
        const Real* g = p.grad().ptr();
        Real* m = m_[i].ptr();
        Real* v = v_[i].ptr();
        for (int64_t k = 0, n = p.numel(); k < n; ++k) {
            m[k] = beta1_ * m[k] + (1 - beta1_) * g[k];         // m ← β₁ m + (1 - β₁) g
            v[k] = beta2_ * v[k] + (1 - beta2_) * g[k] * g[k];  // v ← β₂ v + (1 - β₂) g²
            const Real m_hat = m[k] / c1, v_hat = v[k] / c2;
            theta[k] -= lr_ * m_hat / (std::sqrt(v_hat) + eps_);  // θ ← θ - η m̂ / (√v̂ + ε)
        }
    }
}

// ---------------------------------------------------------------- clipping

Real clip_grad_norm(const std::vector<Var>& params, Real max_norm) {
    if (!(max_norm > 0)) throw std::invalid_argument(fmt::format("clip_grad_norm: max_norm must be > 0, got {}", max_norm));
    // ‖g‖² = Σ g², accumulated in double so that a float build adding millions of squares stays accurate.
    double sum_sq = 0;
    for (const Var& p : params) {
        if (!p.has_grad()) continue;
        const Real* g = p.grad().ptr();
        for (int64_t k = 0, n = p.numel(); k < n; ++k) sum_sq += double(g[k]) * double(g[k]);
    }
    const double norm = std::sqrt(sum_sq);
    if (!std::isfinite(norm)) {
        // Name the culprit: the first parameter holding a NaN or an infinity.
        for (size_t i = 0; i < params.size(); ++i) {
            if (!params[i].has_grad()) continue;
            const Tensor& g = params[i].grad();
            for (int64_t k = 0; k < g.numel(); ++k)
                if (!std::isfinite(g[k]))
                    throw std::runtime_error(fmt::format(
                        "clip_grad_norm: gradients are not finite (norm {}): parameter #{} '{}' {} has {} at element {}",
                        norm, i, params[i].name(), g.shape.str(), g[k], k));
        }
        // Every element is finite but the sum of squares overflowed.
        throw std::runtime_error(fmt::format("clip_grad_norm: gradients are not finite (the norm overflows to {})", norm));
    }
    if (norm > max_norm) {
        const Real factor = static_cast<Real>(max_norm / norm);
        for (const Var& p : params) {
            if (!p.has_grad()) continue;
            Real* g = p.grad().ptr();
            for (int64_t k = 0, n = p.numel(); k < n; ++k) g[k] *= factor;
        }
    }
    return static_cast<Real>(norm);
}

}  // namespace s2a

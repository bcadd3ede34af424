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

OptimizerState Optimizer::state() const {
    // state_tensors() hands out references so that set_state can write through them; reading needs no change.
    auto& self = const_cast<Optimizer&>(*this);
    OptimizerState s;
    s.steps = static_cast<uint64_t>(steps_.load());
    for (const auto& [kind, tensors] : self.state_tensors()) s.tensors.emplace_back(kind, *tensors);
    for (const auto& [kind, counts] : self.state_counters())
        s.counters.emplace_back(kind, std::vector<uint64_t>(counts->begin(), counts->end()));
    return s;
}

void Optimizer::set_state(const OptimizerState& s) {
    const auto tensors = state_tensors();
    const auto counters = state_counters();
    // 1. Check everything against this optimizer's parameters.
    if (s.tensors.size() != tensors.size() || s.counters.size() != counters.size())
        throw std::runtime_error(fmt::format("optimizer state: {} kinds of tensors and {} of counters, expected {} and {}",
                                             s.tensors.size(), s.counters.size(), tensors.size(), counters.size()));
    if (s.steps > uint64_t(INT64_MAX)) throw std::runtime_error(fmt::format("optimizer state: step count {} is too large", s.steps));
    for (size_t k = 0; k < tensors.size(); ++k) {
        const auto& [kind, given] = s.tensors[k];
        if (kind != tensors[k].first || given.size() != params_.size())
            throw std::runtime_error(fmt::format("optimizer state '{}' ({} tensors): expected '{}', one per parameter ({})", kind,
                                                 given.size(), tensors[k].first, params_.size()));
        for (size_t i = 0; i < params_.size(); ++i) {
            if (given[i].shape != params_[i].shape())
                throw std::runtime_error(fmt::format("optimizer state '{}' of parameter #{} '{}': shape {}, the parameter's is {}",
                                                     kind, i, params_[i].name(), given[i].shape.str(), params_[i].shape().str()));
            for (int64_t j = 0; j < given[i].numel(); ++j)
                if (!std::isfinite(given[i][j]))
                    throw std::runtime_error(fmt::format("optimizer state '{}' of parameter #{} '{}' holds {} at element {}", kind,
                                                         i, params_[i].name(), given[i][j], j));
        }
    }
    for (size_t k = 0; k < counters.size(); ++k) {
        const auto& [kind, given] = s.counters[k];
        if (kind != counters[k].first || given.size() != params_.size())
            throw std::runtime_error(fmt::format("optimizer state '{}' ({} counters): expected '{}', one per parameter ({})", kind,
                                                 given.size(), counters[k].first, params_.size()));
        for (size_t i = 0; i < given.size(); ++i)
            if (given[i] > s.steps)
                throw std::runtime_error(fmt::format("optimizer state '{}' of parameter #{} '{}': {} is more than the {} steps taken",
                                                     kind, i, params_[i].name(), given[i], s.steps));
    }
    // 2. It fits: copy.
    steps_ = static_cast<int64_t>(s.steps);
    for (size_t k = 0; k < tensors.size(); ++k) *tensors[k].second = s.tensors[k].second;
    for (size_t k = 0; k < counters.size(); ++k)
        counters[k].second->assign(s.counters[k].second.begin(), s.counters[k].second.end());
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

// With momentum, the velocity v; plain SGD keeps nothing.
std::vector<std::pair<std::string, std::vector<Tensor>*>> SGD::state_tensors() {
    if (momentum_ == 0) return {};
    return {{"velocity", &velocity_}};
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

std::vector<std::pair<std::string, std::vector<Tensor>*>> Adam::state_tensors() { return {{"m", &m_}, {"v", &v_}}; }
std::vector<std::pair<std::string, std::vector<int64_t>*>> Adam::state_counters() { return {{"t", &t_}}; }

namespace {

// Adam's settings for one parameter: β₁, β₂, the bias corrections 1 - β₁ᵗ, 1 - β₂ᵗ, the learning rate η and ε.
struct Hyper {
    Real b1, b2, c1, c2, lr, eps;
};

// One parameter's update, element by element: theta, g, m, v hold n elements each.
void adam_update(Hyper h, Real* __restrict theta, const Real* __restrict g, Real* __restrict m, Real* __restrict v, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
        m[k] = h.b1 * m[k] + (1 - h.b1) * g[k];         // m ← β₁ m + (1 - β₁) g
        v[k] = h.b2 * v[k] + (1 - h.b2) * g[k] * g[k];  // v ← β₂ v + (1 - β₂) g²
        const Real m_hat = m[k] / h.c1, v_hat = v[k] / h.c2;
        theta[k] -= h.lr * m_hat / (std::sqrt(v_hat) + h.eps);  // θ ← θ - η m̂ / (√v̂ + ε)
    }
}

}  // namespace

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
        // Each element on its own: a large parameter is shared among the cores. The loop works on local copies
        // of the settings and pointers: a store through theta, m or v could otherwise change one of them (a member
        // or a captured variable of the same type), for all the compiler knows, and it would not vectorise it.
        const Hyper h{beta1_, beta2_, c1, c2, lr_, eps_};
        parallel_ranges(p.numel(), kPointwiseGrain, [h, theta, g, m, v](int64_t begin, int64_t end) {
            adam_update(h, theta + begin, g + begin, m + begin, v + begin, end - begin);
        });
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

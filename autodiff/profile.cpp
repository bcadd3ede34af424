// autodiff/profile.cpp — the Profile's buckets, its report, and the sgemm peak it is compared to.
#include "autodiff/profile.h"

#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <thread>

namespace s2a {

thread_local Profile* g_profile = nullptr;

Profile::Profile()
    : last_(Clock::now()), step_start_bytes_(tensor_bytes_in_use()), outer_peak_bytes_(restart_peak_tensor_bytes()),
      previous_(g_profile), previous_work_(g_work) {
    g_profile = this;
    g_work = &work_;
}

Profile::~Profile() { stop(); }

void Profile::stop() {
    if (!recording_) return;
    outside_done();  // the time since the last op, up to now
    peak_bytes_ = peak_tensor_bytes();
    raise_peak_tensor_bytes(outer_peak_bytes_);
    recording_ = false;
    g_profile = previous_;
    g_work = previous_work_;
}

// Everything since the last event (time, FLOPs, bytes) goes to one bucket, and the clock restarts.
void Profile::charge(OpStats& to, bool backward) {
    const Clock::time_point now = Clock::now();
    (backward ? to.backward_s : to.forward_s) += std::chrono::duration<double>(now - last_).count();
    to.flops += work_.flops;
    to.gemm_s += work_.gemm_s;
    to.bytes += work_.bytes;
    work_ = WorkCounters{};
    last_ = now;
}

void Profile::forward_done(const char* op) {
    OpStats& s = by_op_[op];
    ++s.calls;
    charge(s, false);
}

void Profile::backward_done(const char* op) { charge(by_op_[op], true); }

void Profile::outside_done() { charge(outside_, false); }

void Profile::backward_begins() {
    outside_done();  // from the last op to here (the loss check) is no op's time
    const int64_t kept = tensor_bytes_in_use() - step_start_bytes_;
    if (kept >= kept_bytes_) kept_bytes_ = kept, held_bytes_ = step_start_bytes_;
}

void Profile::tape_cleared() {
    outside_done();  // clipping and the optimizer ran since backward
    step_start_bytes_ = tensor_bytes_in_use();
}

std::vector<std::pair<std::string, OpStats>> Profile::ops() const {
    std::map<std::string, OpStats> merged;
    for (const auto& [name, s] : by_op_) merged[name] += s;
    std::vector<std::pair<std::string, OpStats>> rows(merged.begin(), merged.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds() > b.second.seconds(); });
    return rows;
}

OpStats Profile::op(const std::string& name) const {
    for (const auto& [n, s] : ops())
        if (n == name) return s;
    return OpStats{};
}

OpStats Profile::total() const {
    OpStats sum = outside_;
    for (const auto& entry : by_op_) sum += entry.second;
    return sum;
}

std::string Profile::report() const { return report(sgemm_peak_gflops()); }

std::string Profile::report(double peak_gflops) const {
    const OpStats sum = total();
    const double total = sum.seconds();
    const auto share = [&](double seconds) { return total > 0 ? 100 * seconds / total : 0.0; };
    const auto rate = [](double flops, double seconds) {
        return flops > 0 && seconds > 0 ? fmt::format("{:.1f}", flops / seconds * 1e-9) : std::string("-");
    };
    const auto in_gemm = [](const OpStats& o) {  // the share of the op's own time spent in products
        return o.gemm_s > 0 && o.seconds() > 0 ? fmt::format("{:.0f}%", 100 * o.gemm_s / o.seconds()) : "-";
    };
    std::string s = fmt::format("{:<20} {:>7} {:>11} {:>11} {:>10} {:>7} {:>8} {:>10} {:>9} {:>10}\n", "op", "calls",
                                "forward ms", "backward ms", "total ms", "share", "in gemm", "GFLOP", "GFLOP/s", "MB alloc");
    const auto row = [&](const std::string& name, const std::string& calls, const std::string& fwd, const std::string& bwd,
                         const OpStats& o) {
        s += fmt::format("{:<20} {:>7} {:>11} {:>11} {:>10.2f} {:>6.1f}% {:>8} {:>10.3f} {:>9} {:>10.1f}\n", name, calls, fwd,
                         bwd, o.seconds() * 1e3, share(o.seconds()), in_gemm(o), o.flops * 1e-9, rate(o.flops, o.seconds()),
                         o.bytes / 1e6);
    };
    for (const auto& [name, o] : ops())
        row(name, fmt::format("{}", o.calls), fmt::format("{:.2f}", o.forward_s * 1e3), fmt::format("{:.2f}", o.backward_s * 1e3), o);
    row("(outside ops)", "", "", "", outside_);
    row("total", fmt::format("{}", sum.calls), "", "", sum);
    const double flop_rate = total > 0 ? sum.flops / total * 1e-9 : 0;
    if (steps_ > 0)
        s += fmt::format("A step (of {}): {:.2f} ms, {:.3f} GFLOP, {:.1f} MB allocated\n", steps_, total / steps_ * 1e3,
                         sum.flops / steps_ * 1e-9, sum.bytes / 1e6 / steps_);
    // Amdahl's law: making everything but the products free would leave the products' time, so total / gemm
    // bounds what any speed-up of the rest can gain (and what a program doing the same products with the same
    // library can gain over this one).
    if (sum.gemm_s > 0) {
        const int per = std::max(steps_, 1);
        s += fmt::format("Matrix products (gemm): {:.4g} ms of {} {:.4g} ms ({:.1f}%), the rest {:.4g} ms; were the rest "
                         "free, {:.2f}× faster (Amdahl's law)\n",
                         sum.gemm_s / per * 1e3, steps_ > 0 ? "a step's" : "the", total / per * 1e3, share(sum.gemm_s),
                         (total - sum.gemm_s) / per * 1e3, total / sum.gemm_s);
    }
    s += fmt::format("{:.1f} GFLOP/s = {:.1f}% of the measured sgemm peak ({:.1f} GFLOP/s)\n", flop_rate,
                     peak_gflops > 0 ? 100 * flop_rate / peak_gflops : 0.0, peak_gflops);
    const auto size = [](int64_t bytes) {
        return bytes < 1000000 ? fmt::format("{:.1f} kB", bytes / 1e3) : fmt::format("{:.1f} MB", bytes / 1e6);
    };
    if (steps_ > 0)
        s += fmt::format("Tensor memory: {} in use before a step (the model, its gradients, the optimizer's state, the data), "
                         "{} more kept by the forward pass for backward, a peak of {}\n",
                         size(held_bytes_), size(kept_bytes_), size(peak_bytes()));
    return s;
}

double sgemm_peak_gflops() {
    static const double peak = [] {
        // The machine's peak: OpenBLAS on every core for this one product (gemm keeps it on one thread and
        // splits large products itself, autodiff/tensor.cpp), then back as it was.
        const int threads_before = openblas_get_num_threads();
        openblas_set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
        const int n = 1024;
        Rng rng(1);
        std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
        for (float& v : a) v = static_cast<float>(rng.uniform(-1, 1));
        for (float& v : b) v = static_cast<float>(rng.uniform(-1, 1));
        double best = std::numeric_limits<double>::infinity();
        for (int run = 0; run < 4; ++run) {  // run 0 only wakes OpenBLAS's threads and warms its buffers
            const auto start = std::chrono::steady_clock::now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.data(), n, b.data(), n, 0, c.data(), n);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (run > 0) best = std::min(best, seconds);
        }
        openblas_set_num_threads(threads_before);
        return 2.0 * n * n * n / best * 1e-9;
    }();
    return peak;
}

void profile_epoch(int batches, const std::function<void(int batch)>& step) {
    step(0);
    Profile p;
    for (int i = 0; i < batches; ++i) step(i);
    p.stop();
    fmt::print("Profile of an epoch of training ({} steps, after a warm-up step):\n{}", batches, p.report());
}

}  // namespace s2a

// autodiff/profile.h — where a training step's time goes: per op, its calls, forward and backward time,
// FLOPs, bytes allocated and share of the step.
//
//     {
//         Profile p;                      // from here on this thread's ops are timed and counted
//         for (...) train_step(...);      // anything: training steps, decoding, a single expression
//         fmt::print("{}", p.report());   // one row per op name, heaviest first
//     }                                   // recording stops when p goes out of scope
//
// How it measures, through four hooks that cost one predictable branch each while no Profile is alive:
//   forward   record() (tape.h) is called when an op has computed its output, so an op's forward time is the
//             time since the previous event on this thread: the previous op's record, the end of a backward
//             pass, or tape().clear(). It includes the little glue between two ops (a layer's index
//             arithmetic, the next batch's copy before the first op).
//   backward  Tape::backward times each node's backward function and charges it to the node's op.
//   FLOPs     every matrix product goes through gemm (tensor.h), which adds its exact 2·M·N·K, forward and
//             backward alike; pointwise ops declare about one FLOP per element with count_flops. Other ops
//             (softmax, layer norm, copies) count none: their cost is moving memory, not arithmetic.
//   products  gemm also adds the wall time this thread spent in it: the OpenBLAS calls, and the wait for the
//             other cores' blocks. Where an op shares its products among the cores (attention's heads), this
//             thread's own time in them, out of the op's wall time, estimates the share of the op spent in
//             products (the cores' shares are about even: they claim the pieces as they go).
//   bytes     the tensor allocator adds the bytes of every buffer it hands out (tensor.h).
//   memory    the tensor bytes in use (tensor.h) when a step begins (the Profile's start, each tape().clear())
//             and when its backward begins: the difference is what the forward pass kept for backward.
//             Their peak is the most in use at any moment while the Profile lived.
// Time that falls in no op is shown as "(outside ops)", so the shares add up to 100%: in a training step,
// from the loss to the start of backward (the loss check, zero_grad) and from the last backward node to
// tape().clear() (gradient clipping, the optimizer, freeing the step's tensors).
//
// A Profile records the thread it was made on (the tape is per thread too). Profiles nest: an inner one
// takes over until it ends.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autodiff/tensor.h"

namespace s2a {

// What one op name did while a Profile was alive.
struct OpStats {
    int64_t calls = 0;      // forward calls (ops recorded)
    double forward_s = 0;   // seconds in forward
    double backward_s = 0;  // seconds in backward
    double flops = 0;       // forward and backward
    double gemm_s = 0;      // of its seconds, those spent in matrix products (gemm), forward and backward
    int64_t bytes = 0;      // tensor storage allocated, forward and backward
    double seconds() const { return forward_s + backward_s; }
    OpStats& operator+=(const OpStats& o) {  // every figure of o added: two rows merged, or a total
        calls += o.calls, forward_s += o.forward_s, backward_s += o.backward_s;
        flops += o.flops, gemm_s += o.gemm_s, bytes += o.bytes;
        return *this;
    }
};

class Profile {
  public:
    Profile();   // starts recording on this thread
    ~Profile();  // stops
    Profile(const Profile&) = delete;
    Profile& operator=(const Profile&) = delete;

    // Stops recording now (the destructor does it otherwise); what was recorded stays for report().
    void stop();

    // One row per op name, most time first: calls, forward ms, backward ms, share of the total, the share of
    // its own time in matrix products, GFLOP, GFLOP/s, MB allocated; then the time outside ops, the total,
    // the total per step (a step = one backward pass), the time in products against the rest (Amdahl's
    // bound), and the FLOP rate as a fraction of sgemm_peak_gflops().
    std::string report() const;
    std::string report(double peak_gflops) const;  // the same against a peak the caller measured

    // The rows of the report: op name and its stats, most time first (ops that share a name are merged).
    std::vector<std::pair<std::string, OpStats>> ops() const;
    OpStats op(const std::string& name) const;  // zeros if the op never ran
    const OpStats& outside() const { return outside_; }
    // Every op's figures and those outside ops, added up: the time from the start to the last event, the FLOPs,
    // and of that time the part in matrix products.
    OpStats total() const;
    double total_seconds() const { return total().seconds(); }
    double total_flops() const { return total().flops; }
    double total_gemm_seconds() const { return total().gemm_s; }
    int steps() const { return steps_; }  // backward passes seen
    // Tensor memory, in bytes: what the forward pass kept for backward (the most over the steps seen), what was
    // in use before that step began (the model, its gradients, the optimizer's state, the data), and the peak.
    int64_t kept_bytes() const { return kept_bytes_; }
    int64_t held_bytes() const { return held_bytes_; }
    int64_t peak_bytes() const { return recording_ ? peak_tensor_bytes() : peak_bytes_; }

    // The hooks (tape.cpp). Each charges the time and work since the previous event to one bucket.
    void forward_done(const char* op);   // record(op, ...): the op's forward has just finished
    void backward_done(const char* op);  // a node of this op has just run its backward
    void outside_done();                 // the time since the last event belongs to no op
    void backward_begins();              // Tape::backward starts: outside time, and what the forward kept
    void backward_pass() { ++steps_; }
    void tape_cleared();                 // tape().clear() has freed the step: outside time, and a step begins

  private:
    using Clock = std::chrono::steady_clock;
    void charge(OpStats& to, bool backward);

    Clock::time_point last_;
    WorkCounters work_;  // since the last event
    // Op names are string literals, so the hooks look them up by pointer; ops() merges equal names.
    std::unordered_map<const char*, OpStats> by_op_;
    OpStats outside_;
    int steps_ = 0;
    int64_t step_start_bytes_;  // tensor bytes in use when the current step began
    int64_t kept_bytes_ = 0, held_bytes_ = 0, peak_bytes_ = 0;
    int64_t outer_peak_bytes_;  // the peak counted before this Profile restarted it, handed back at stop()
    bool recording_ = true;
    Profile* previous_;          // the Profile this one took over from, restored when it stops
    WorkCounters* previous_work_;
};

// The Profile recording on this thread, or null: the branch every hook takes.
extern thread_local Profile* g_profile;

// GFLOP/s of OpenBLAS's sgemm on this machine, with its current threads: C (1024, 1024) = A · B, the best of
// a few runs. Measured on the first call (about a tenth of a second) and remembered. The ceiling a
// model's FLOP rate is compared to (the "model FLOP utilisation").
double sgemm_peak_gflops();

// What --profile does in the chapters: an epoch of training, step(0) .. step(batches - 1), profiled after a
// warm-up step(0) (the first allocations, OpenBLAS's threads waking), and the report printed to stdout.
void profile_epoch(int batches, const std::function<void(int batch)>& step);

}  // namespace s2a

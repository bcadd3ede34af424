// bench/bench.cpp — `make bench`: how fast the framework is (a benchmark, never a test).
//
//   sgemm    GFLOP/s of the framework's matmul op against OpenBLAS called directly, sizes 64..1024:
//            the difference is the op's own cost (output allocation, shape checks, the node).
//   tape     nanoseconds per recorded op on tiny tensors: the fixed cost every op pays, forward and backward.
//   models   one training step (forward + backward + clip + Adam) of each chapter's model on random ids of
//            the date task's sizes: ms/step, training tokens (source + target) per second, the step's FLOPs
//            (counted by the profiler from the shapes of every product, autodiff/profile.h), the model FLOP
//            utilisation (MFU: FLOPs per second as a fraction of the sgemm peak measured at the start), the
//            process's peak resident memory after the steps (getrusage; run one benchmark with --only to
//            see its own) and the share of a step spent in matrix products (one more step, profiled). For
//            the date models also the time to decode 5,000 test dates greedily, in batches: with a replica of
//            the model per core (generate_batches), and with the one model alone; and the share of one
//            replica's decoding spent in products (half of the sources on one core, profiled).
//   local-attention  chapter 7: one decoder step of global and of local-p attention (forward + backward) over
//            sources of growing length S: global attention's time grows with S, local-p's (D = 5) should not.
//   --profile  after each model's timing, a profile of a few of its steps (and of the decoding, for the date
//            models that decode): where the time goes, op by op.
//
// Each measurement repeats its work until at least --seconds have passed and reports the mean.
// bench/compare.py (`make bench-compare`) runs it beside bench/pytorch_reference.py and reads these lines.
#include <cblas.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "io/cli.h"
#include "models/attention_seq2seq.h"
#include "models/seq2seq.h"
#include "models/train.h"
#include "models/transformer_seq2seq.h"
#include "nn/attention_variants.h"

using namespace s2a;

namespace {

// Mean seconds per call of `work`, repeated until `budget` seconds have passed (after one warm-up call).
double time_per_call(const std::function<void()>& work, double budget) {
    using clock = std::chrono::steady_clock;
    work();
    int calls = 0;
    const auto start = clock::now();
    double elapsed = 0;
    do {
        work();
        ++calls;
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < budget);
    return elapsed / calls;
}

void bench_sgemm(double budget) {
    // matmul (gemm: OpenBLAS on one thread, large products split over blas_threads() threads by rows) against
    // OpenBLAS called directly on every core, its own threading.
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    fmt::print("sgemm: C (n, n) = A (n, n) · B (n, n); matmul on {} threads, OpenBLAS on {}\n", blas_threads(), cores);
    fmt::print("  {:>6} {:>16} {:>16} {:>8}\n", "n", "matmul GFLOP/s", "cblas GFLOP/s", "ratio");
    Rng rng(1);
    for (int n : {64, 128, 256, 512, 1024}) {
        const double flops = 2.0 * n * n * n;
        Var a = constant(randn(Shape{n, n}, rng)), b = constant(randn(Shape{n, n}, rng));
        NoGrad no_grad;
        const double t_op = time_per_call([&] { matmul(a, b); }, budget);
        const std::vector<float> fa(a.value().data.begin(), a.value().data.end()), fb(b.value().data.begin(), b.value().data.end());
        std::vector<float> fc(size_t(n) * n);
        openblas_set_num_threads(cores);
        const double t_blas = time_per_call([&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, fa.data(), n, fb.data(), n, 0, fc.data(), n);
        }, budget);
        openblas_set_num_threads(1);
        fmt::print("  {:>6} {:>16.1f} {:>16.1f} {:>8.2f}\n", n, flops / t_op * 1e-9, flops / t_blas * 1e-9, t_blas / t_op);
    }
}

void bench_tape(double budget) {
    const int ops = 1000;
    Var x = parameter(Tensor(Shape{1, 1}, 0.5), "x");
    auto chain = [&] {  // `ops` tiny ops recorded one after another
        Var y = x;
        for (int i = 0; i < ops; ++i) y = tanh(y);
        return y;
    };
    const double t_forward = time_per_call([&] { chain(); tape().clear(); }, budget);
    const double t_both = time_per_call([&] { backward(sum(chain())); tape().clear(); }, budget);
    double t_nograd;
    {
        NoGrad no_grad;
        t_nograd = time_per_call([&] { chain(); }, budget);
    }
    fmt::print("tape: tanh on (1, 1) tensors, {} ops in a chain\n", ops);
    fmt::print("  recorded forward            {:>8.0f} ns/op\n", t_forward / ops * 1e9);
    fmt::print("  recorded forward + backward {:>8.0f} ns/op\n", t_both / ops * 1e9);
    fmt::print("  no-grad forward             {:>8.0f} ns/op\n", t_nograd / ops * 1e9);
}

IndexTensor random_ids(const Shape& s, int V, Rng& rng) {
    IndexTensor ids(s);
    for (int& id : ids.data) id = rng.randint(V);
    return ids;
}

// The most resident memory the process has had so far, in MB (Linux reports ru_maxrss in KiB).
double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

// What a model benchmark does besides timing its training step.
struct Extras {
    bool profile = false;  // print a profile of a few steps, and of the decoding
    int decode = 0;        // > 0: time greedy decoding of this many random sources, in batches of B
};

// One training step of a seq2seq model on random ids: train_step (forward + backward + clip + Adam), the
// step every chapter takes. A header line that starts with the name, then indented lines of figures (the
// lines compare.py reads).
// Makes a model of the same architecture: with extras.decode, a replica decodes on the second core. Made only
// then, after the peak RSS is read, so that the training step's memory is the model's alone.
using MakeReplica = std::function<std::unique_ptr<Seq2seqModel>()>;

void bench_model(const std::string& name, Seq2seqModel& model, const MakeReplica& make_replica, int V, int B, int S, int T,
                 double budget, const Extras& extras) {
    Rng rng(3);
    Batch batch;
    batch.src = random_ids(Shape{B, S}, V, rng);
    batch.tgt = random_ids(Shape{B, T}, V, rng);
    Adam adam(model.parameters(), 1e-3);
    const double t = time_per_call([&] { train_step(model, batch, adam, 5); }, budget);
    const double rss = peak_rss_mb();
    Profile count;  // one more step, to count its FLOPs and its time in products
    train_step(model, batch, adam, 5);
    count.stop();
    const double flops = count.total_flops();
    fmt::print("{}: V {} B {} source {} target {}, {} parameters\n", name, V, B, S, T, model.num_parameters());
    fmt::print("  {:>8.2f} ms/step  {:>10.0f} training tokens/s  {:.2f} GFLOP/step  MFU {:.1f}%  peak RSS {:.0f} MB  "
               "products {:.1f}%\n",
               t * 1e3, B * (S + T) / t, flops * 1e-9, 100 * flops / t * 1e-9 / sgemm_peak_gflops(), rss,
               100 * count.total_gemm_seconds() / count.total_seconds());
    if (extras.decode > 0 && make_replica) {
        // Greedy decoding as the chapters test: T - 1 tokens after the start symbol, a batch of sources at a time;
        // the batches shared between a replica per core, then the one model splitting each product instead.
        const IndexTensor sources = random_ids(Shape{extras.decode, S}, V, rng);
        const std::unique_ptr<Seq2seqModel> replica = make_replica();
        copy_parameters(model, *replica);
        const std::vector<Seq2seqModel*> one = {&model}, per_core = {&model, replica.get()};
        const auto decode = [&](const std::vector<Seq2seqModel*>& replicas) {
            return time_per_call([&] { generate_batches(replicas, sources, B, 0, T - 1); }, 0);
        };
        fmt::print("  greedy decoding of {} sources ({} tokens each, batches of {}): {:.1f} ms\n", extras.decode, T - 1, B,
                   decode(per_core) * 1e3);
        fmt::print("  the same with one model, each product split between the cores: {:.1f} ms\n", decode(one) * 1e3);
        // Where the decoding's time goes: what one replica does, half of the sources with every product on this
        // core, profiled. (Profiling the replicas themselves would record the ops of this thread's replica
        // alone, and count the other's work in no op.)
        IndexTensor half(Shape{extras.decode / 2, S});  // the first half of the sources
        std::copy_n(sources.data.begin(), half.data.size(), half.data.begin());
        const int threads = blas_threads();
        set_blas_threads(1);
        Profile p;
        generate_batches(one, half, B, 0, T - 1);
        p.stop();
        set_blas_threads(threads);
        fmt::print("  one replica's decoding ({} sources on one core, profiled): products {:.1f}%\n", half.shape[0],
                   100 * p.total_gemm_seconds() / p.total_seconds());
        if (extras.profile) fmt::print("  its profile:\n{}\n", p.report());
    }
    if (extras.profile) {
        const int steps = 5;
        Profile p;
        for (int i = 0; i < steps; ++i) train_step(model, batch, adam, 5);
        p.stop();
        fmt::print("  profile of {} steps:\n{}\n", steps, p.report());
    }
}

void bench_seq2seq_date(double budget, Extras extras) {
    Rng rng(1);
    Seq2seq model(59, 16, 256, false, rng);
    extras.decode = 0;
    bench_model("seq2seq-date (E 16, H 256)", model, nullptr, 59, 128, 29, 11, budget, extras);
}

void bench_attention_date(double budget, const Extras& extras) {
    Rng rng(1);
    AttentionConfig cfg;  // the textbook's model: Luong wiring, dot score
    cfg.V = 59, cfg.E = 16, cfg.H = 256;
    AttentionSeq2seq model(cfg, rng);
    const MakeReplica replica = [&] { return std::make_unique<AttentionSeq2seq>(cfg, rng); };
    bench_model("attention-date (E 16, H 256, Luong, dot)", model, replica, 59, 128, 29, 11, budget, extras);
}

// The Transformer of chapter 5 at two sizes; dropout off, so a step's work does not depend on the draw.
void bench_transformer(const std::string& name, int V, int layers, int B, int S, int T, double budget, const Extras& extras) {
    Rng rng(1);
    TransformerConfig cfg;
    cfg.V = V;
    cfg.D = 256;
    cfg.heads = 4;
    cfg.F = 1024;
    cfg.encoder_layers = layers;
    cfg.decoder_layers = layers;
    cfg.dropout = 0;
    TransformerSeq2seq model(cfg, rng);
    const MakeReplica replica = [&] { return std::make_unique<TransformerSeq2seq>(cfg, rng); };
    bench_model(fmt::format("{} (D 256, 4 heads, {}+{} layers, F 1024)", name, layers, layers), model, replica, V, B, S, T, budget,
                extras);
}

// One decoder step of attention for B = 64 queries (Tq = 1, H 128, additive score), forward and backward, with the
// keys W₂ hs given (a model computes them once per sentence, not per step): global attention scores all S
// positions, local-p the 2D + 1 around its centre. The FLOPs per query are the profiler's count (the products and
// the pointwise ops; the fused additive score's tanh is not counted, so global attention's real count is higher).
void bench_local_attention(double budget) {
    const int B = 64, H = 128, D = 5;
    Rng rng(1);
    AttentionWeight weight(Score::Additive, H, H, rng);
    const WeightSum weight_sum;
    LocalAttention local(weight, D, rng);
    fmt::print("local-attention: one decoder step, B {} queries, H {}, additive score, forward + backward; local-p D = {}\n", B, H, D);
    fmt::print("  {:>6} {:>14} {:>14} {:>8} {:>18} {:>18}\n", "S", "global µs", "local-p µs", "ratio", "global FLOP/query",
               "local-p FLOP/query");
    for (int S : {60, 250, 1000}) {
        const Var q = parameter(randn(Shape{B, 1, H}, rng), "q"), hs = parameter(randn(Shape{B, S, H}, rng), "hs");
        const Var keys = parameter(weight.keys(hs).value(), "keys");  // a leaf: only the step is timed
        tape().clear();
        const auto global_step = [&] { backward(sum(weight_sum.forward(weight.forward_with_keys(q, keys, nullptr), hs))); tape().clear(); };
        const auto local_step = [&] { backward(sum(local.forward(q, hs, keys, nullptr))); tape().clear(); };
        const auto flops = [&](const std::function<void()>& step) {
            Profile p;
            step();
            p.stop();
            return p.total_flops() / B;
        };
        const double t_global = time_per_call(global_step, budget), t_local = time_per_call(local_step, budget);
        fmt::print("  {:>6} {:>14.1f} {:>14.1f} {:>8.2f} {:>18.0f} {:>18.0f}\n", S, t_global * 1e6, t_local * 1e6,
                   t_global / t_local, flops(global_step), flops(local_step));
    }
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 0.3;
    std::string only;
    Extras extras;
    extras.decode = 5000;  // the date task's test set
    Cli cli("bench", "Speed of the framework: sgemm through matmul vs OpenBLAS, and the tape's per-op overhead.");
    cli.option("seconds", &seconds, "time spent on each measurement").above(0).at_most(3600);
    cli.option("only", &only, "run one benchmark: sgemm, tape, seq2seq-date, attention-date, transformer-date, transformer-long, local-attention (default: all)");
    cli.flag("profile", &extras.profile, "after each model's timing, profile a few of its steps (and its decoding) op by op");
    cli.parse(argc, argv);
    const std::vector<std::string> known = {"", "sgemm", "tape", "seq2seq-date", "attention-date", "transformer-date", "transformer-long",
                                            "local-attention"};
    if (std::find(known.begin(), known.end(), only) == known.end()) {
        fmt::print(stderr, "bench: unknown benchmark '{}' (see --help)\n", only);
        return 2;
    }
    // The kernels OpenBLAS picked for this processor: they, not only the code, decide a result's last bits.
    fmt::print("sgemm peak: {:.1f} GFLOP/s (OpenBLAS on {} threads, its {} kernels, 1024³, best of 3): the MFU's denominator\n",
               sgemm_peak_gflops(), std::max(1, static_cast<int>(std::thread::hardware_concurrency())),
               blas_kernels());
    if (only.empty() || only == "sgemm") bench_sgemm(seconds);
    if (only.empty() || only == "tape") bench_tape(seconds);
    const double model_seconds = std::max(seconds, 2.0);
    if (only.empty() || only == "seq2seq-date") bench_seq2seq_date(model_seconds, extras);
    if (only.empty() || only == "attention-date") bench_attention_date(model_seconds, extras);
    if (only.empty() || only == "transformer-date")
        bench_transformer("transformer-date", 59, 2, 128, 29, 11, model_seconds, extras);
    extras.decode = 0;  // no test set of long strings
    if (only.empty() || only == "transformer-long")
        bench_transformer("transformer-long", 64, 3, 64, 64, 64, model_seconds, extras);
    if (only.empty() || only == "local-attention") bench_local_attention(seconds);
    return 0;
}

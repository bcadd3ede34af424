// bench/bench.cpp — `make bench`: how fast the framework is (a benchmark, never a test).
//
//   sgemm    GFLOP/s of the framework's matmul op against OpenBLAS called directly, sizes 64..1024:
//            the difference is the op's own cost (output allocation, shape checks, the node).
//   tape     nanoseconds per recorded op on tiny tensors: the fixed cost every op pays, forward and backward.
//   models   one training step (forward + backward + clip + Adam) of each chapter's model on random ids of
//            the date task's sizes: ms/step and training tokens (source + target) per second.
//
// Each measurement repeats its work until at least --seconds have passed and reports the mean.
#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "autodiff/ops.h"
#include "io/cli.h"
#include "models/attention_seq2seq.h"
#include "models/seq2seq.h"
#include "models/train.h"
#include "models/transformer_seq2seq.h"

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
    fmt::print("sgemm: C (n, n) = A (n, n) · B (n, n), {} OpenBLAS threads\n", openblas_get_num_threads());
    fmt::print("  {:>6} {:>16} {:>16} {:>8}\n", "n", "matmul GFLOP/s", "cblas GFLOP/s", "ratio");
    Rng rng(1);
    for (int n : {64, 128, 256, 512, 1024}) {
        const double flops = 2.0 * n * n * n;
        Var a = constant(randn(Shape{n, n}, rng)), b = constant(randn(Shape{n, n}, rng));
        NoGrad no_grad;
        const double t_op = time_per_call([&] { matmul(a, b); }, budget);
        const std::vector<float> fa(a.value().data.begin(), a.value().data.end()), fb(b.value().data.begin(), b.value().data.end());
        std::vector<float> fc(size_t(n) * n);
        const double t_blas = time_per_call([&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, fa.data(), n, fb.data(), n, 0, fc.data(), n);
        }, budget);
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

// One training step of a seq2seq model on random ids: train_step (forward + backward + clip + Adam), the
// step every chapter takes.
void bench_model(const std::string& name, Seq2seqModel& model, int V, int B, int S, int T, double budget) {
    Rng rng(3);
    Batch batch;
    batch.src = random_ids(Shape{B, S}, V, rng);
    batch.tgt = random_ids(Shape{B, T}, V, rng);
    Adam adam(model.parameters(), 1e-3);
    const double t = time_per_call([&] { train_step(model, batch, adam, 5); }, budget);
    fmt::print("{}: V {} B {} source {} target {}, {} parameters\n", name, V, B, S, T, model.num_parameters());
    fmt::print("  {:>8.2f} ms/step  {:>10.0f} training tokens/s\n", t * 1e3, B * (S + T) / t);
}

void bench_seq2seq_date(double budget) {
    Rng rng(1);
    Seq2seq model(59, 16, 256, false, rng);
    bench_model("seq2seq-date (E 16, H 256)", model, 59, 128, 29, 11, budget);
}

void bench_attention_date(double budget) {
    Rng rng(1);
    AttentionConfig cfg;  // the textbook's model: Luong wiring, dot score
    cfg.V = 59, cfg.E = 16, cfg.H = 256;
    AttentionSeq2seq model(cfg, rng);
    bench_model("attention-date (E 16, H 256, Luong, dot)", model, 59, 128, 29, 11, budget);
}

// The Transformer of chapter 5 at two sizes; dropout off, so a step's work does not depend on the draw.
void bench_transformer(const std::string& name, int V, int layers, int B, int S, int T, double budget) {
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
    bench_model(fmt::format("{} (D 256, 4 heads, {}+{} layers, F 1024)", name, layers, layers), model, V, B, S, T, budget);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 0.3;
    std::string only;
    Cli cli("bench", "Speed of the framework: sgemm through matmul vs OpenBLAS, and the tape's per-op overhead.");
    cli.option("seconds", &seconds, "time spent on each measurement").above(0).at_most(3600);
    cli.option("only", &only, "run one benchmark: sgemm, tape, seq2seq-date, attention-date, transformer-date, transformer-long (default: all)");
    cli.parse(argc, argv);
    const std::vector<std::string> known = {"", "sgemm", "tape", "seq2seq-date", "attention-date", "transformer-date", "transformer-long"};
    if (std::find(known.begin(), known.end(), only) == known.end()) {
        fmt::print(stderr, "bench: unknown benchmark '{}' (see --help)\n", only);
        return 2;
    }
    if (only.empty() || only == "sgemm") bench_sgemm(seconds);
    if (only.empty() || only == "tape") bench_tape(seconds);
    if (only.empty() || only == "seq2seq-date") bench_seq2seq_date(std::max(seconds, 2.0));
    if (only.empty() || only == "attention-date") bench_attention_date(std::max(seconds, 2.0));
    if (only.empty() || only == "transformer-date") bench_transformer("transformer-date", 59, 2, 128, 29, 11, std::max(seconds, 2.0));
    if (only.empty() || only == "transformer-long") bench_transformer("transformer-long", 64, 3, 64, 64, 64, std::max(seconds, 2.0));
    return 0;
}

// tests/test_determinism.cpp — a seed fixes the trained weights, bit for bit, whatever the threads do: a
// matrix product split over 1, 2 or 3 threads, and a model trained alone (its products split over the
// cores) or beside two others (each product on one thread), all give exactly the same numbers.
//
// The products are large enough (2²⁰ multiply-adds and more) that OpenBLAS, left to itself, would split them
// over its threads, and gemm splits them into blocks: below that, every thread count would agree anyway and the
// test could not fail. (It did fail on the code before gemm's threading policy: 1 and 2 threads disagreed in
// most of these products and in 16 of the LSTM's and 43 of the Transformer's parameters.)
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "autodiff/ops.h"
#include "experiments/side_by_side.h"
#include "experiments/transformer.h"
#include "models/attention_seq2seq.h"
#include "models/transformer_seq2seq.h"
#include "nn/optim.h"
#include "tests/training.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// Sets the threads of one matrix product for as long as it lives.
struct ProductThreads {
    int before = blas_threads();
    explicit ProductThreads(int n) { set_blas_threads(n); }
    ~ProductThreads() { set_blas_threads(before); }
};

// The model under test, built from the same seed every time: V the vocabulary size, pad its padding id.
using MakeModel = std::function<std::unique_ptr<Seq2seqModel>(int V, int pad)>;

// A 2-layer residual LSTM encoder-decoder with dot attention (chapter 4's model): its recurrence multiplies
// (B, H) · (H, 4H) = (64, 64) · (64, 256) at every step.
std::unique_ptr<Seq2seqModel> lstm_model(int V, int pad) {
    AttentionConfig c;
    c.V = V;
    c.E = 16;
    c.H = 64;
    c.layers = 2;
    c.residual = true;
    c.pad_id = pad;
    c.reversed_source = true;
    Rng init(5);
    return std::make_unique<AttentionSeq2seq>(c, init);
}

// A small pre-norm Transformer with dropout (chapter 5's model): its projections multiply (B·S, D) · (D, D).
std::unique_ptr<Seq2seqModel> transformer_model(int V, int pad) {
    TransformerConfig c;
    c.V = V;
    c.D = 32;
    c.heads = 4;
    c.F = 64;
    c.encoder_layers = c.decoder_layers = 1;
    c.dropout = Real(0.1);
    c.pre_norm = true;
    c.pad_id = pad;
    Rng init(5);
    return std::make_unique<TransformerSeq2seq>(c, init);
}

// 336 training and 64 test dates: a few steps of batch 64.
struct Dates {
    Split sets = split(load_or_generate("dates", "", 400, 3), 64, 3);
    Vocab vocab = make_vocab(sets.train);
};

// Every parameter of a model after `epochs` epochs of `dates`, trained side by side with `beside` more copies of
// it, each product allowed `threads` threads (the harness lowers that to one when models train side by side).
std::vector<Tensor> trained_weights(const MakeModel& make, const Dates& dates, int threads, int beside, int epochs = 1) {
    const Split& sets = dates.sets;
    const Vocab& vocab = dates.vocab;
    std::vector<Contender> cs;
    for (int i = 0; i <= beside; ++i)
        cs.push_back(make_contender(fmt::format("model {}", i), make(vocab.size(), vocab.id(' ')), sets, vocab, 64, true,
                                    Real(3e-3), 11));
    const ProductThreads hold(threads);
    train_side_by_side(cs, epochs, [](Contender& c) {
        train_one_epoch(*c.model, *c.train, *c.optimizer, 5, c.shuffle);
        return exact_match(*c.model, *c.test, c.start_id);
    });
    std::vector<Tensor> weights;
    for (const Var& p : cs.back().model->parameters()) weights.push_back(p.value());
    return weights;
}

// Holds `got` to `want` bit for bit, parameter by parameter; the first difference is printed.
void check_identical(const std::vector<Tensor>& got, const std::vector<Tensor>& want, const std::string& what) {
    REQUIRE(got.size() == want.size());
    for (size_t p = 0; p < got.size(); ++p) {
        REQUIRE(got[p].shape == want[p].shape);
        for (int64_t i = 0; i < got[p].numel(); ++i)
            if (got[p][i] != want[p][i]) {
                FAIL_CHECK(fmt::format("{}: parameter {} element {} is {:.17g}, not {:.17g}", what, p, i, got[p][i], want[p][i]));
                break;
            }
    }
}

// The whole of a text file ("" if it cannot be read).
std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace
TEST_CASE("determinism: on a processor where OpenBLAS would pick its Cooperlake kernels, it runs SkylakeX's") {
    // The published figures were measured with the SkylakeX kernels; Cooperlake's add up in another order
    // (autodiff/tensor.cpp, pin_blas_kernels). This process was restarted with them before main if it needed
    // to be; on a processor without AVX-512 OpenBLAS picks other kernels and there is nothing to pin.
    const char* asked = std::getenv("OPENBLAS_CORETYPE");
    const std::string core = blas_kernels();
    INFO("OpenBLAS runs its ", core, " kernels; OPENBLAS_CORETYPE=", asked ? asked : "(unset)");
    if (!asked) CHECK((core != "Cooperlake" && core != "SapphireRapids"));
    else if (std::string(asked) == "SkylakeX") CHECK(core == "SkylakeX");
}


TEST_CASE("determinism: a large matrix product gives the same bits on 1, 2 or 3 threads, and the right numbers") {
    Rng rng(9);
    // Shapes that gemm cuts in several ways: blocks of rows with a small last one (67 × 255 × 130), halves of the
    // columns (32 × 1024 × 900), halves of an odd number of rows (1857) or columns (1801), one call (the rest).
    for (auto [M, N, K] : {std::array{1856, 32, 32}, {64, 256, 64}, {67, 255, 130}, {32, 1024, 900}, {1857, 600, 40},
                           {100, 1801, 64}})
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
                const Tensor A = randn(ta ? Shape{K, M} : Shape{M, K}, rng), B = randn(tb ? Shape{N, K} : Shape{K, N}, rng);
                const Tensor C0 = randn(Shape{M, N}, rng);
                std::vector<Tensor> C(3, C0);
                for (int t = 1; t <= 3; ++t) {
                    const ProductThreads hold(t);
                    gemm(ta, tb, M, N, K, 1, A.ptr(), A.dim(1), B.ptr(), B.dim(1), 1, C[t - 1].ptr(), N);
                }
                INFO("M ", M, " N ", N, " K ", K, " ta ", ta, " tb ", tb);
                CHECK(C[1].data == C[0].data);
                CHECK(C[2].data == C[0].data);
                Tensor ref = C0;
                gemm_naive(ta, tb, M, N, K, 1, A.ptr(), A.dim(1), B.ptr(), B.dim(1), 1, ref.ptr(), N);
                CHECK(max_abs_diff(C[0], ref) < 1e-9 * K);
            }
}

TEST_CASE("determinism: bmm's items shared among the cores give the bits of one thread, forward and backward") {
    // Nine items, so that 2 and 3 threads each take several, some more than others; every transpose, and a
    // product of a tensor with itself (its two gradients land in one buffer, item by item).
    Rng rng(14);
    const int items = 9, M = 7, N = 11, K = 30;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            const Tensor a0 = randn(ta ? Shape{items, K, M} : Shape{items, M, K}, rng);
            const Tensor b0 = randn(tb ? Shape{items, N, K} : Shape{items, K, N}, rng);
            const auto run = [&](int threads) {
                const ProductThreads hold(threads);
                const Var a = parameter(a0), b = parameter(b0);
                const Var c = bmm(a, b, ta, tb), self = bmm(a, a, ta, !ta);  // self: (items, M, M) or (items, K, K)
                backward(sum(c * c) + sum(self * self));
                std::vector<Tensor> out = {c.value(), self.value(), a.grad(), b.grad()};
                tape().clear();
                return out;
            };
            const std::vector<Tensor> one = run(1);
            for (int threads : {2, 3}) {
                const std::vector<Tensor> got = run(threads);
                for (size_t k = 0; k < got.size(); ++k) {
                    INFO("ta ", ta, " tb ", tb, ", ", threads, " threads, output ", k);
                    CHECK(got[k].data == one[k].data);
                }
            }
        }
}

TEST_CASE("determinism: the pointwise passes shared among the cores give the same bits on 1, 2 or 3 threads") {
    // Large enough (600 × 256 = 153,600 elements, more than two grains) that parallel_ranges cuts them: the
    // residual add, a unary op, layer norm (its dγ, dβ summed down the columns), linear, linear + ReLU and
    // linear + residual (their bias and its gradient, the mask, the residual's gradient), and Adam's update. Every output and gradient must be the one-thread bits.
    Rng rng(12);
    const int M = 600, D = 256;
    const Tensor x0 = randn(Shape{M, D}, rng), r0 = randn(Shape{M, D}, rng), W0 = randn(Shape{D, D}, rng, Real(0.1)),
                 b0 = randn(Shape{D}, rng), g0 = randn(Shape{D}, rng), beta0 = randn(Shape{D}, rng);
    const auto run = [&](int threads) {
        const ProductThreads hold(threads);
        const Var x = parameter(x0), r = parameter(r0), W = parameter(W0), b = parameter(b0), g = parameter(g0),
                  beta = parameter(beta0);
        const Var h = layer_norm(tanh(x + r), g, beta, Real(1e-5));  // (M, D)
        const Var y = linear_residual(linear_relu(h, W, b), W, b, linear(h, W, b));  // (M, D)
        backward(sum(y * y));
        std::vector<Tensor> out = {y.value()};
        for (const Var& p : {x, r, W, b, g, beta}) out.push_back(p.grad());
        Adam adam({x, W, b}, Real(1e-3));
        adam.step();
        for (const Var& p : {x, W, b}) out.push_back(p.value());
        tape().clear();
        return out;
    };
    const std::vector<Tensor> one = run(1);
    for (int threads : {2, 3}) {
        const std::vector<Tensor> got = run(threads);
        REQUIRE(got.size() == one.size());
        for (size_t k = 0; k < got.size(); ++k) {
            INFO(threads, " threads, output ", k);
            CHECK(got[k].data == one[k].data);
        }
    }
}

TEST_CASE("determinism: products made from three threads at once, each on 2 threads, give the bits of one thread") {
    // gemm's team of threads runs one product at a time; the callers that find it busy compute their blocks
    // themselves. Either way every block is the same single-threaded call, so the bits cannot change.
    Rng rng(4);
    const int M = 256, N = 96, K = 80;  // 2 MFLOP, 8 blocks of 32 rows
    std::vector<Tensor> A, B, want;
    for (int j = 0; j < 3; ++j) {
        A.push_back(randn(Shape{M, K}, rng));
        B.push_back(randn(Shape{K, N}, rng));
        want.emplace_back(Shape{M, N});
        const ProductThreads hold(1);
        gemm(false, false, M, N, K, 1, A[j].ptr(), K, B[j].ptr(), N, 0, want[j].ptr(), N);
    }
    std::vector<Tensor> got(3, Tensor(Shape{M, N}));
    std::vector<int> mismatches(3, 0);
    const ProductThreads hold(2);
    std::vector<std::thread> callers;
    for (int j = 0; j < 3; ++j)
        callers.emplace_back([&, j] {
            for (int rep = 0; rep < 50; ++rep) {
                gemm(false, false, M, N, K, 1, A[j].ptr(), K, B[j].ptr(), N, 0, got[j].ptr(), N);
                mismatches[j] += got[j].data != want[j].data;
            }
        });
    for (std::thread& c : callers) c.join();
    for (int j = 0; j < 3; ++j) CHECK(mismatches[j] == 0);
}

TEST_CASE("determinism: a model trained alone on 1 or 2 threads or beside two others ends with the same weights") {
    for (auto [name, make] : {std::pair<const char*, MakeModel>{"LSTM", lstm_model}, {"Transformer", transformer_model}}) {
        INFO(name);
        const Dates dates;
        const std::vector<Tensor> alone1 = trained_weights(make, dates, 1, 0);
        check_identical(trained_weights(make, dates, 2, 0), alone1, fmt::format("{} alone on 2 threads", name));
        check_identical(trained_weights(make, dates, 2, 2), alone1, fmt::format("{} beside two others", name));
        // Three models on two threads for two epochs: a model's second epoch runs on whichever thread is free,
        // often not the one that ran its first (another malloc arena, so its tensors at other addresses).
        check_identical(trained_weights(make, dates, 2, 2, 2), trained_weights(make, dates, 1, 0, 2),
                        fmt::format("{} moved between threads", name));
        // Training moved the weights (the comparisons above would hold trivially otherwise).
        const std::vector<Var> initial = make(dates.vocab.size(), dates.vocab.id(' '))->parameters();
        for (size_t p = 0; p < initial.size(); ++p) CHECK(initial[p].value().data != alone1[p].data);
    }
}

TEST_CASE("determinism: make reproduce's quick run writes every chapter's tables, and the same ones again") {
    const TempDir first("reproduce_1"), second("reproduce_2");
    const std::string bin = std::string(S2A_BUILD_DIR) + "/bin";
    auto reproduce = [&](const std::string& out, const std::string& only) {
        const std::string cmd = fmt::format("python3 tools/reproduce.py --quick --f32 {0} --f64 {0} --out {1} --only {2} "
                                            "> {1}/log 2>&1", bin, out, only);
        const int status = std::system(cmd.c_str());
        INFO(cmd, " printed:\n", file_text(out + "/log"));
        REQUIRE(status == 0);
    };
    reproduce(first.path(), "ch0,ch1,ch2,ch3,ch4,ch5,ch6,ch7,ch8");
    // Each file names its command and seed, and holds the tables README quotes.
    const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
        {"ch0", {"ch0 --seed 0 --quick`", "## Training loss", "| epoch | loss |"}},
        {"ch1", {"ch1 --seed 1 --out OUT --quick`", "| epoch | baseline | reversed | peeky+reversed |\n|---:|---:|---:|---:|\n| 1 | "}},
        {"ch2", {"| length | last state | mean of hs |\n|---:|---:|---:|\n| 1..4 | "}},
        {"ch3", {"| epoch | loss | exact match |"}},
        {"ch4", {"| model | stack | layer 1 |", "| epoch | 1 layer | 3 plain | 3 residual |"}},
        {"ch5", {"--seconds 0", "time-dependent", "| epoch | loss | exact | BLEU |\n", "| greedy | "}},
        {"ch6", {"| epoch | teacher forcing: forced / free / gap | scheduled: forced / free / gap |\n|---:|---|---|\n| 1 | ",
                 "% / "}},
        {"ch7", {"| model | parameters | FLOPs/step S=60 | FLOPs/step S=600 |\n|---|---:|---:|---:|\n| global | ",
                 "| model | steps to 95% | mean \\|argmax − t\\| | argmax = t |\n|---|---:|---:|---:|\n| global | ",
                 "| epoch | plain: all / unseen | pointer: all / unseen |", "> Exact match on the "}},
        {"ch8", {"| epoch | loss | exact match | BLEU |", "| decoding | exact match | BLEU |"}},
    };
    for (const auto& [ch, parts] : expected) {
        const std::string text = file_text(first.file(ch + ".md"));
        INFO(ch, ".md:\n", text);
        CHECK(contains(text, "<!-- Generated by tools/reproduce.py"));
        CHECK(contains(text, fmt::format("), with OpenBLAS's {} kernels.", blas_kernels())));  // part of the record
        for (const std::string& part : parts) CHECK_MESSAGE(contains(text, part), "missing: ", part);
        CHECK(!contains(text, "seconds |"));  // time columns are left out
        CHECK(!contains(text, "reverse task"));  // nor chapter 5's race (--quick runs one, of a second)
    }
    // Chapter 4 trains five models side by side: run again, it prints the same tables to the last digit.
    reproduce(second.path(), "ch4");
    CHECK(file_text(second.file("ch4.md")) == file_text(first.file("ch4.md")));
}

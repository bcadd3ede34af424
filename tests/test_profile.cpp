// tests/test_profile.cpp — the profiler: what it counts (calls, FLOPs, bytes), that its shares add up, that its
// report names every op, and that nothing is recorded while no Profile is alive.
#include <doctest/doctest.h>

#include <chrono>
#include <sstream>

#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "nn/fused_lstm.h"
#include "tests/run_program.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// loss = Σ (h·h + h), h = tanh(x·W): one each of matmul, tanh, mul, add, sum per pass.
Var tiny_graph(const Var& x, const Var& W) {
    Var h = tanh(matmul(x, W));
    return sum(h * h + h);
}

// One step of the tiny graph: its backward pass (what a Profile counts as a step), then the tape cleared.
void tiny_step(const Var& x, const Var& W) {
    backward(tiny_graph(x, W));
    tape().clear();
}

}  // namespace

TEST_CASE("profile: counts the calls of each op of a known graph, and one step per backward pass") {
    tape().clear();
    Rng rng(1);
    Var x = constant(randn(Shape{2, 3}, rng), "x"), W = parameter(randn(Shape{3, 4}, rng), "W");
    Profile p;
    for (int step = 0; step < 3; ++step) tiny_step(x, W);
    p.stop();
    for (const char* op : {"matmul", "tanh", "mul", "add", "sum"}) {
        INFO(op);
        CHECK(p.op(op).calls == 3);
    }
    CHECK(p.ops().size() == 5);
    CHECK(p.op("bmm").calls == 0);
    CHECK(p.steps() == 3);
    CHECK(p.op("matmul").backward_s > 0);  // backward was timed, and charged to the op
    CHECK(p.total_seconds() > 0);
}

TEST_CASE("profile: a matmul's FLOPs are exactly 2·M·N·K per product, forward and backward; its bytes are its buffers") {
    tape().clear();
    const int M = 3, K = 5, N = 4;
    Rng rng(2);
    Var a = parameter(randn(Shape{M, K}, rng), "a"), b = parameter(randn(Shape{K, N}, rng), "b");
    Var b_const = constant(b.value(), "b");
    SUBCASE("both inputs need gradients: C = A·B, then dA = dC·Bᵀ and dB = Aᵀ·dC") {
        Profile p;
        backward(sum(matmul(a, b)));
        p.stop();
        CHECK(p.op("matmul").flops == 3 * 2.0 * M * N * K);
        // forward: C (M, N); backward: the gradients of A (M, K) and B (K, N), allocated on first use
        CHECK(p.op("matmul").bytes == int64_t(M * N + M * K + K * N) * int64_t(sizeof(Real)));
    }
    SUBCASE("B is a constant: the backward skips dB") {
        Profile p;
        backward(sum(matmul(a, b_const)));
        p.stop();
        CHECK(p.op("matmul").flops == 2 * 2.0 * M * N * K);
    }
    SUBCASE("under NoGrad only the forward product runs") {
        Profile p;
        NoGrad no_grad;
        matmul(a, b);
        p.stop();
        CHECK(p.op("matmul").calls == 1);
        CHECK(p.op("matmul").flops == 2.0 * M * N * K);
        CHECK(p.steps() == 0);
    }
    tape().clear();
}

TEST_CASE("profile: the shares of the ops and of the time outside them add up to 100%, and to the wall time") {
    tape().clear();
    Rng rng(3);
    Var x = constant(randn(Shape{64, 32}, rng), "x"), W = parameter(randn(Shape{32, 32}, rng), "W");
    const auto start = std::chrono::steady_clock::now();
    Profile p;
    for (int step = 0; step < 20; ++step) {
        backward(tiny_graph(x, W));
        W.grad().fill(0);  // a stand-in for the optimizer: time outside every op
        tape().clear();
    }
    p.stop();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(p.outside().seconds() > 0);
    double sum = p.outside().seconds();
    for (const auto& [name, o] : p.ops()) sum += o.seconds();
    CHECK(sum == doctest::Approx(p.total_seconds()).epsilon(1e-9));
    CHECK(p.total_seconds() <= wall);  // every interval charged lies between start and stop
    CHECK(p.total_seconds() > 0.5 * wall);

    // The report's share column: each op's row and the outside row add up to 100% (each rounded to 0.1%).
    const std::string report = p.report(100.0);
    std::istringstream lines(report);
    std::string line;
    double shares = 0;
    int rows = 0;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line) && line.rfind("total", 0) != 0) {
        const size_t percent = line.find('%');
        REQUIRE(percent != std::string::npos);
        const size_t begin = line.rfind(' ', percent) + 1;
        shares += std::stod(line.substr(begin, percent - begin));
        ++rows;
    }
    CHECK(rows == 6);  // five ops and "(outside ops)"
    CHECK(shares == doctest::Approx(100).epsilon(0.05 * rows / 100));
    CHECK(has(line, "100.0%"));  // the total row
}

TEST_CASE("profile: the report names every op, fused ones under their own names, and the sgemm peak") {
    tape().clear();
    const int B = 2, T = 3, H = 4;
    Rng rng(4);
    const int D = 3;
    Var xs = parameter(randn(Shape{B, T, D}, rng), "xs"), Wx = parameter(randn(Shape{D, 4 * H}, rng), "Wx");
    Var b = parameter(randn(Shape{4 * H}, rng), "b"), Wh = parameter(randn(Shape{H, 4 * H}, rng), "Wh");
    Var h0 = constant(Tensor(Shape{B, H}), "h0"), c0 = constant(Tensor(Shape{B, H}), "c0");
    Var x = constant(randn(Shape{2, 3}, rng), "x"), W = parameter(randn(Shape{3, 4}, rng), "W");
    Profile p;
    backward(sum(lstm_recurrence(xs, Wx, b, Wh, h0, c0).hs));
    tape().clear();
    tiny_step(x, W);
    p.stop();
    const std::string report = p.report(123.4);
    INFO(report);
    for (const char* op : {"lstm_recurrence", "matmul", "tanh", "mul", "add", "sum", "(outside ops)", "total"})
        CHECK_MESSAGE(has(report, op), "missing: ", op);
    CHECK(p.op("lstm_recurrence").calls == 1);
    CHECK(p.op("lstm_recurrence").flops >= 2.0 * B * T * 4 * H * (D + H));  // at least its forward products
    CHECK(has(report, "A step (of 2)"));
    CHECK(has(report, "of the measured sgemm peak (123.4 GFLOP/s)"));
    tape().clear();
}

TEST_CASE("profile: an op inside a share the calling thread runs itself is charged its own FLOPs") {
    // as when one model decodes in generate_batches' only share: before, its FLOPs reached the profile only
    // after the share, as time outside ops (a rate of millions of GFLOP/s on that row)
    Rng rng(3);
    const Var a = constant(randn(Shape{8, 5}, rng)), b = constant(randn(Shape{5, 6}, rng));
    Profile p;
    parallel_for(1, [&](int) { matmul(a, b); });
    p.stop();
    CHECK(p.op("matmul").flops == 2.0 * 8 * 6 * 5);
    CHECK(p.total_flops() == p.op("matmul").flops);  // none left outside the ops
}

TEST_CASE("profile: the time in matrix products is charged to the ops that multiply, and only once") {
    tape().clear();
    Rng rng(6);
    SUBCASE("a graph with one product: only matmul's row has time in gemm, and no more than its own time") {
        Var x = constant(randn(Shape{64, 32}, rng), "x"), W = parameter(randn(Shape{32, 32}, rng), "W");
        Profile p;
        for (int step = 0; step < 5; ++step) tiny_step(x, W);
        p.stop();
        CHECK(p.op("matmul").gemm_s > 0);
        CHECK(p.op("matmul").gemm_s <= p.op("matmul").seconds());
        for (const char* op : {"tanh", "mul", "add", "sum"}) {
            INFO(op);
            CHECK(p.op(op).gemm_s == 0);
        }
        CHECK(p.total_gemm_seconds() == p.op("matmul").gemm_s);
        const std::string report = p.report(100.0);
        INFO(report);
        CHECK(has(report, "in gemm"));
        // the row's seventh column: op, calls, forward ms, backward ms, total ms, share, in gemm
        const auto in_gemm_cell = [&](const std::string& op) {
            std::istringstream lines(report);
            for (std::string line; std::getline(lines, line);)
                if (line.rfind(op + " ", 0) == 0) {
                    std::istringstream cells(line);
                    std::string cell;
                    for (int i = 0; i < 7; ++i) cells >> cell;
                    return cell;
                }
            return std::string("(no row)");
        };
        CHECK(in_gemm_cell("tanh") == "-");
        const std::string matmul_cell = in_gemm_cell("matmul");
        CHECK(matmul_cell.back() == '%');
        CHECK(std::stod(matmul_cell) > 0);
        CHECK(std::stod(matmul_cell) <= 100);
        CHECK(has(report, "Matrix products (gemm): "));
        CHECK(has(report, "(Amdahl's law)"));
    }
    SUBCASE("products shared among the cores count the calling thread's time alone") {
        // bmm's items run on both cores at once: adding the helper's seconds in gemm to the caller's would
        // count two cores' time against one clock, more time in products than the op took
        const int threads_before = blas_threads();
        set_blas_threads(2);
        Var a = parameter(randn(Shape{64, 96, 96}, rng), "a"), b = parameter(randn(Shape{64, 96, 96}, rng), "b");
        Profile p;
        for (int step = 0; step < 5; ++step) {
            backward(sum(bmm(a, b)));
            tape().clear();
        }
        p.stop();
        set_blas_threads(threads_before);
        CHECK(p.op("bmm").gemm_s > 0);
        CHECK(p.op("bmm").gemm_s <= p.op("bmm").seconds());
    }
}

TEST_CASE("profile: nothing is recorded while no Profile is alive") {
    tape().clear();
    Rng rng(5);
    Var x = constant(randn(Shape{2, 3}, rng), "x"), W = parameter(randn(Shape{3, 4}, rng), "W");
    CHECK(g_profile == nullptr);
    CHECK(g_work == nullptr);
    Profile outer;
    CHECK(g_profile == &outer);
    tiny_step(x, W);
    {
        Profile inner;  // takes over until it ends
        tiny_step(x, W);
        CHECK(inner.op("matmul").calls == 1);
    }
    CHECK(g_profile == &outer);
    CHECK(outer.op("matmul").calls == 1);
    outer.stop();
    CHECK(g_profile == nullptr);
    CHECK(g_work == nullptr);
    const OpStats before = outer.op("matmul");
    const double flops = outer.total_flops();
    tiny_step(x, W);  // after stop: not counted anywhere
    CHECK(outer.op("matmul").calls == before.calls);
    CHECK(outer.op("matmul").bytes == before.bytes);
    CHECK(outer.total_flops() == flops);
    CHECK(outer.steps() == 1);
}

TEST_CASE("profile: the memory line counts, to the byte, what forward keeps for backward and the peak") {
    tape().clear();
    const int n = 1000;
    const int64_t real = sizeof(Real);
    Var x = parameter(Tensor(Shape{n}, Real(0.5)), "x");  // held before the step, as a model's weights are
    const int64_t before = tensor_bytes_in_use();
    Profile p;
    {
        const Var y = tanh(x);       // (n): tanh's backward reads it
        const Var loss = sum(y);     // (): one number
        backward(loss);              // d loss (1), then dy (n), then dx (n), all alive at once
    }
    tape().clear();
    p.stop();
    CHECK(p.held_bytes() == before);
    CHECK(p.kept_bytes() == (n + 1) * real);                        // y and the loss
    CHECK(p.peak_bytes() == before + (n + 1) * real + (1 + n + n) * real);
    CHECK(tensor_bytes_in_use() == before + n * real);              // dx stays: x's gradient, for the optimizer
    CHECK_MESSAGE(p.report().find("Tensor memory:") != std::string::npos, p.report());
    {  // a Profile made inside another hands its peak back: the outer one still sees a buffer freed before it
        Profile outer;
        { const Tensor big(Shape{100 * n}); }
        { Profile inner; }
        outer.stop();
        CHECK(outer.peak_bytes() >= tensor_bytes_in_use() + 100 * n * real);
    }
}

TEST_CASE("profile: --profile on the chapters") {
    check_run("ch0", "--quick --profile", 0, {"Where the training's time went", "matmul", "(outside ops)",
                                              "A step (of 20)", "training accuracy"});
    const s2a::TempDir out("profile");
    const Run ch1 = check_run("ch1", "--quick --profile --out " + out.path(), 0,
                              {"Profile of an epoch of training (22 steps, after a warm-up step)", "lstm_recurrence",
                               "A step (of 22)"});
    CHECK_FALSE(has(ch1.output, "test exact match"));  // it stops after the profile
    const Run ch5 = check_run("ch5", "--quick --profile --out " + out.path(), 0,
                              {"Profile of an epoch of training", "multi_head_attention", "layer_norm"});
    CHECK_FALSE(has(ch5.output, "chapter-3 LSTM"));  // no race after the profile
    check_run("ch3", "--help", 0, {"--profile"});
}

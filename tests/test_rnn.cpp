// tests/test_rnn.cpp — tests of nn/lstm, nn/fused_lstm and nn/gru: the fused LSTM against the op-by-op
// reference (values and every gradient), double-precision gradient checks of every path (fused sequence,
// final state, step, reference cell, GRU), step-by-step decoding against whole-sequence forward, and shape
// errors.
//
// Dimensions: B batch, T time steps, D input features, H hidden units. Sizes are tiny and seeded, so the
// gradient checks can look at every element.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "nn/fused_lstm.h"
#include "nn/gru.h"
#include "nn/lstm.h"
#include "tests/util.h"

using namespace s2a;

namespace {

struct Sizes {
    int B, T, D, H;
};
const Sizes kSizes[] = {{2, 3, 3, 4}, {3, 4, 3, 4}};

// Everything an LSTM sequence gives the loss, flattened side by side: (B, T·H + H + H).
Var lstm_outputs(const Var& hs, const LSTMState& s) {
    return concat({reshape(hs, Shape{hs.dim(0), hs.dim(1) * hs.dim(2)}), s.h, s.c}, 1);
}

// Feeds x (B, T, D) to `step` one time step at a time: each step's h (B, H) must equal hs[:, t] of the
// whole-sequence forward. `step` carries the layer's state from one call to the next.
void check_steps_equal_forward(const Var& x, const Var& hs, const std::function<Var(const Var& x_t)>& step) {
    for (int t = 0; t < x.dim(1); ++t) {
        INFO("step " << t);
        CHECK(max_abs_diff(step(select(x, 1, t)).value(), select(hs, 1, t).value()) <= 1e-12);
    }
}

}  // namespace

TEST_CASE("rnn: fused LSTM agrees with the op-by-op reference, values and gradients") {
    for (const Sizes& n : kSizes)
        for (bool zero_state : {false, true}) {
            Rng rng(7 + n.B);
            LSTM lstm(n.D, n.H, rng);
            randomize(lstm, rng);
            const Var x = parameter(randn(Shape{n.B, n.T, n.D}, rng), "x");
            const Var h0 = parameter(randn(Shape{n.B, n.H}, rng), "h0");
            const Var c0 = parameter(randn(Shape{n.B, n.H}, rng), "c0");
            const LSTMState init = zero_state ? LSTMState{} : LSTMState{h0, c0};
            // L = Σ hs ⊙ R1 + Σ h ⊙ R2 + Σ c ⊙ R3: every output matters, each with its own weights.
            const Var R = constant(randn(Shape{n.B, n.T * n.H + 2 * n.H}, rng));
            std::vector<Var> wrt = lstm.parameters();
            wrt.insert(wrt.end(), {x, h0, c0});

            // Runs one path, returns its outputs' values followed by the gradients of everything in wrt.
            auto run = [&](bool fused) {
                tape().clear();
                zero_grad(wrt);
                const auto [hs, s] = fused ? lstm.forward(x, init) : lstm.forward_reference(x, init);
                const Var out = lstm_outputs(hs, s);
                backward(sum(out * R));
                std::vector<Tensor> result{hs.value(), s.h.value(), s.c.value()};
                for (const Var& v : wrt) result.push_back(v.has_grad() ? v.grad() : Tensor(v.shape()));
                tape().clear();
                return result;
            };
            const std::vector<Tensor> fast = run(true), ref = run(false);
            const char* names[] = {"hs", "h", "c", "dWx", "dWh", "db", "dx", "dh0", "dc0"};
            for (size_t k = 0; k < fast.size(); ++k) {
                const double diff = max_abs_diff(fast[k], ref[k]);
                INFO(fmt::format("B={} T={} D={} H={} zero state={}: {} differs by {:.3e}", n.B, n.T, n.D, n.H,
                                 zero_state, names[k], diff));
                CHECK(diff <= 1e-12);
            }
        }
}

TEST_CASE("rnn: fused LSTM matches the reference when the gates saturate") {
    // Inputs of size ~1000 drive the pre-activations far past where e^x overflows (x > 709 in double):
    // the fused path's clamped exp must still give the reference's 0s and ±1s, and no NaN.
    Rng rng(23);
    const Sizes n = kSizes[1];
    LSTM lstm(n.D, n.H, rng);
    randomize(lstm, rng);
    Tensor big = randn(Shape{n.B, n.T, n.D}, rng);
    for (Real& v : big.data) v *= 1000;
    const Var x = constant(big);
    NoGrad no_grad;
    const auto [hs, s] = lstm.forward(x);
    const auto [hs_ref, s_ref] = lstm.forward_reference(x);
    for (Real v : hs.value().data) CHECK(std::isfinite(v));
    CHECK(max_abs_diff(hs.value(), hs_ref.value()) <= 1e-12);
    CHECK(max_abs_diff(s.c.value(), s_ref.c.value()) <= 1e-12);
}

TEST_CASE("rnn: gradcheck of the fused LSTM (x, Wx, Wh, b, h0, c0) through hs and the final state, and through c") {
    // When the loss uses only the final c it never touches hs: the gradient must still reach the recurrence
    // through the c_last node.
    struct Output {
        const char* name;
        std::function<Var(const Var& hs, const LSTMState& s)> of;
    };
    const Output outputs[] = {{"hs and the final state", lstm_outputs},
                              {"final c", [](const Var&, const LSTMState& s) { return s.c; }}};
    for (const Sizes& n : kSizes)
        for (const Output& o : outputs) {
            Rng rng(11 + n.T);
            LSTM lstm(n.D, n.H, rng);
            randomize(lstm, rng);
            const Var x = parameter(randn(Shape{n.B, n.T, n.D}, rng), "x");
            const Var h0 = parameter(randn(Shape{n.B, n.H}, rng), "h0");
            const Var c0 = parameter(randn(Shape{n.B, n.H}, rng), "c0");
            const auto report = gradcheck(
                [&](const std::vector<Var>& in) {
                    const auto [hs, s] = lstm.forward(in[0], {in[4], in[5]});
                    return o.of(hs, s);
                },
                {x, lstm.Wx(), lstm.Wh(), lstm.b(), h0, c0});
            check_report(report, fmt::format("LSTM forward, loss on {}, B={} T={}", o.name, n.B, n.T));
        }
}

TEST_CASE("rnn: gradcheck of the LSTM reference cell") {
    Rng rng(3);
    const Sizes n = kSizes[0];
    const Var x_t = parameter(randn(Shape{n.B, n.D}, rng), "x_t");
    const Var h = parameter(randn(Shape{n.B, n.H}, rng), "h");
    const Var c = parameter(randn(Shape{n.B, n.H}, rng), "c");
    const Var Wx = parameter(randn(Shape{n.D, 4 * n.H}, rng), "Wx");
    const Var Wh = parameter(randn(Shape{n.H, 4 * n.H}, rng), "Wh");
    const Var b = parameter(randn(Shape{4 * n.H}, rng), "b");
    const auto report = gradcheck(
        [](const std::vector<Var>& in) {
            const LSTMState s = lstm_cell_reference(in[0], {in[1], in[2]}, in[3], in[4], in[5]);
            return concat({s.h, s.c}, 1);
        },
        {x_t, h, c, Wx, Wh, b});
    check_report(report, "lstm_cell_reference");
}

TEST_CASE("rnn: gradcheck of LSTM step, and T steps equal one forward") {
    Rng rng(13);
    const Sizes n = kSizes[1];
    LSTM lstm(n.D, n.H, rng);
    randomize(lstm, rng);
    const Var x = parameter(randn(Shape{n.B, n.T, n.D}, rng), "x");
    const Var x_t = parameter(randn(Shape{n.B, n.D}, rng), "x_t");
    const Var h = parameter(randn(Shape{n.B, n.H}, rng), "h");
    const Var c = parameter(randn(Shape{n.B, n.H}, rng), "c");
    const auto report = gradcheck(
        [&](const std::vector<Var>& in) {
            const LSTMState s = lstm.step(in[0], {in[4], in[5]});
            return concat({s.h, s.c}, 1);
        },
        {x_t, lstm.Wx(), lstm.Wh(), lstm.b(), h, c});
    check_report(report, "LSTM step");

    NoGrad no_grad;
    const auto [hs, last] = lstm.forward(x, {h, c});
    LSTMState s{h, c};
    check_steps_equal_forward(x, hs, [&](const Var& input) {
        s = lstm.step(input, s);
        return s.h;
    });
    CHECK(max_abs_diff(s.c.value(), last.c.value()) <= 1e-12);
}

TEST_CASE("rnn: gradcheck of the GRU (x, Wx, Wh, b, bhn, h0) and of its step") {
    for (const Sizes& n : kSizes) {
        Rng rng(17 + n.B);
        GRU gru(n.D, n.H, rng);
        randomize(gru, rng);
        const Var x = parameter(randn(Shape{n.B, n.T, n.D}, rng), "x");
        const Var h0 = parameter(randn(Shape{n.B, n.H}, rng), "h0");
        const auto report = gradcheck(
            [&](const std::vector<Var>& in) {
                const auto [hs, h] = gru.forward(in[0], in[5]);
                return concat({reshape(hs, Shape{n.B, n.T * n.H}), h}, 1);
            },
            {x, gru.Wx(), gru.Wh(), gru.b(), gru.bhn(), h0});
        check_report(report, fmt::format("GRU forward B={} T={}", n.B, n.T));

        const Var x_t = parameter(randn(Shape{n.B, n.D}, rng), "x_t");
        const auto step_report = gradcheck([&](const std::vector<Var>& in) { return gru.step(in[0], in[5]); },
                                           {x_t, gru.Wx(), gru.Wh(), gru.b(), gru.bhn(), h0});
        check_report(step_report, "GRU step");
    }
}

TEST_CASE("rnn: GRU steps equal one forward, and an undefined h0 means zeros") {
    Rng rng(19);
    const Sizes n = kSizes[1];
    GRU gru(n.D, n.H, rng);
    randomize(gru, rng);
    const Var x = constant(randn(Shape{n.B, n.T, n.D}, rng));
    const auto [hs, last] = gru.forward(x);
    const auto [hs0, last0] = gru.forward(x, constant(Tensor(Shape{n.B, n.H})));
    CHECK(max_abs_diff(hs.value(), hs0.value()) == 0);
    Var h;
    check_steps_equal_forward(x, hs, [&](const Var& input) {
        h = gru.step(input, h);
        return h;
    });
    CHECK(max_abs_diff(h.value(), last.value()) == 0);
    tape().clear();
}

TEST_CASE("rnn: parameters, shapes and initialisation") {
    Rng rng(1);
    LSTM lstm(3, 4, rng);
    const auto params = lstm.named_parameters();
    REQUIRE(params.size() == 3);
    CHECK(params[0].first == "Wx");
    CHECK(params[0].second.shape() == Shape{3, 16});
    CHECK(params[1].first == "Wh");
    CHECK(params[1].second.shape() == Shape{4, 16});
    CHECK(params[2].first == "b");
    for (int j = 0; j < 16; ++j) CHECK(lstm.b().value()[j] == 0);
    Rng big_rng(2);
    LSTM big(64, 256, big_rng);  // Wx ~ N(0, 1/D), Wh ~ N(0, 1/H): check the standard deviations
    auto std_of = [](const Tensor& t) {
        double ss = 0;
        for (Real w : t.data) ss += double(w) * w;
        return std::sqrt(ss / t.numel());
    };
    CHECK(std_of(big.Wx().value()) == doctest::Approx(1 / std::sqrt(64.0)).epsilon(0.02));
    CHECK(std_of(big.Wh().value()) == doctest::Approx(1 / std::sqrt(256.0)).epsilon(0.02));

    GRU gru(3, 4, rng);
    CHECK(gru.num_parameters() == 3 * 12 + 4 * 12 + 12 + 4);

    const Var x = constant(randn(Shape{2, 5, 3}, rng));
    const auto [hs, s] = lstm.forward(x);
    CHECK(hs.shape() == Shape{2, 5, 4});
    CHECK(s.h.shape() == Shape{2, 4});
    CHECK(s.c.shape() == Shape{2, 4});
    tape().clear();
}

TEST_CASE("rnn: under NoGrad nothing is recorded") {
    Rng rng(2);
    LSTM lstm(3, 4, rng);
    GRU gru(3, 4, rng);
    tape().clear();
    NoGrad no_grad;
    const Var x = constant(randn(Shape{2, 3, 3}, rng));
    lstm.forward(x);
    lstm.step(select(x, 1, 0), {});
    gru.forward(x);
    CHECK(tape().size() == 0);
}

TEST_CASE("rnn: the fused op writes the input projection into its gates: no (B, T, 4H) tensor besides them") {
    Rng rng(6);
    const int B = 3, T = 5, D = 2, H = 4;
    LSTM lstm(D, H, rng);
    const Var x = constant(randn(Shape{B, T, D}, rng)), h0 = constant(randn(Shape{B, H}, rng)),
              c0 = constant(randn(Shape{B, H}, rng));
    // The tensor bytes the op allocates (its peak above what was in use when it began): the gates (B, T, 4H),
    // the cells, their tanh and hs (B, T, H) each, and c_last (B, H), kept for backward or returned.
    const auto allocated = [&] {
        const int64_t before = tensor_bytes_in_use();
        restart_peak_tensor_bytes();
        const LSTMRecurrence r = lstm_recurrence(x, lstm.Wx(), lstm.b(), lstm.Wh(), h0, c0);
        return peak_tensor_bytes() - before;
    };
    const int64_t expected = int64_t(sizeof(Real)) * (B * T * 4 * H + 3 * B * T * H + B * H);
    {
        NoGrad no_grad;
        CHECK(allocated() == expected);
    }
    CHECK(allocated() == expected);  // on the tape too: what the op keeps for backward is the same tensors
    tape().clear();
}

TEST_CASE("rnn: shape errors name the op and the shapes") {
    Rng rng(4);
    LSTM lstm(3, 4, rng);
    GRU gru(3, 4, rng);
    const Var bad_x = constant(Tensor(Shape{2, 4, 5}));  // D = 5, the layers expect 3
    std::string msg = shape_error_of([&] { lstm.forward(bad_x); });
    CHECK_MESSAGE(contains(msg, "LSTM"), msg);
    CHECK_MESSAGE(contains(msg, "(2, 4, 5)"), msg);
    CHECK_MESSAGE(contains(msg, "(3, 16)"), msg);
    msg = shape_error_of([&] { lstm.forward_reference(bad_x); });
    CHECK_MESSAGE(contains(msg, "(2, 4, 5)"), msg);
    msg = shape_error_of([&] { lstm.step(constant(Tensor(Shape{2, 5})), {}); });
    CHECK_MESSAGE(contains(msg, "LSTM.step"), msg);
    msg = shape_error_of([&] { gru.forward(bad_x); });
    CHECK_MESSAGE(contains(msg, "GRU"), msg);
    CHECK_MESSAGE(contains(msg, "(2, 4, 5)"), msg);

    const Var x = constant(Tensor(Shape{2, 4, 3}));
    const Var wrong_state = constant(Tensor(Shape{3, 4}));  // batch 3, x has 2
    msg = shape_error_of([&] { lstm.forward(x, {wrong_state, {}}); });
    CHECK_MESSAGE(contains(msg, "(3, 4)"), msg);
    msg = shape_error_of([&] { gru.forward(x, wrong_state); });
    CHECK_MESSAGE(contains(msg, "(3, 4)"), msg);
    msg = shape_error_of([&] { lstm_recurrence(x, lstm.Wx(), lstm.b(), lstm.Wh(), wrong_state, wrong_state); });
    CHECK_MESSAGE(contains(msg, "lstm_recurrence"), msg);
    CHECK_MESSAGE(contains(msg, "(2, 4, 3)"), msg);
    CHECK_MESSAGE(contains(msg, "(3, 4)"), msg);
    const Var state = constant(Tensor(Shape{2, 4}));
    msg = shape_error_of([&] { lstm_recurrence(bad_x, lstm.Wx(), lstm.b(), lstm.Wh(), state, state); });
    CHECK_MESSAGE(contains(msg, "lstm_recurrence"), msg);
    CHECK_MESSAGE(contains(msg, "(2, 4, 5)"), msg);
    CHECK_MESSAGE(contains(msg, "(3, 16)"), msg);
    tape().clear();
}

// tests/test_ops.cpp — the forward values of every op in autodiff/ops.h, against numbers worked out by hand.
//
// The gradient checks (test_gradients.cpp) prove that each backward matches its forward; they cannot see a
// forward that is wrong in a self-consistent way. These tests pin the forward itself: small inputs, expected
// values written out in the test (integer arithmetic done by hand, transcendental values with the formula in
// a comment and the digits from a calculator), plus the error messages an op gives when shapes do not fit.
//
// This binary is built in double precision, so Real is double and a tolerance of 1e-9 is comfortable.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "tests/util.h"

using namespace s2a;

namespace {

constexpr double kTol = 1e-9;  // for values that go through exp/log/sqrt; everything else is compared exactly

Var input(const Shape& s, std::vector<Real> values) { return constant(Tensor::from(s, std::move(values))); }

// The values start, start + 1, … laid out in shape s (row-major), so a test can see where each one went.
Var arange(const Shape& s, Real start = 0) {
    Tensor t(s);
    for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + static_cast<Real>(i);
    return constant(t);
}

// Checks y's shape and then every value: exactly when tol is 0, within a relative tol otherwise.
void expect_values(const Var& y, const Shape& shape, const Storage& want, double tol = 0) {
    REQUIRE(y.shape().str() == shape.str());
    REQUIRE(y.numel() == static_cast<int64_t>(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        if (tol == 0) CHECK(y.value()[i] == want[i]);
        else CHECK(y.value()[i] == doctest::Approx(want[i]).epsilon(tol));
    }
}

void expect_near(const Var& y, const Shape& shape, const Storage& want) { expect_values(y, shape, want, kTol); }

// `f` must throw a ShapeError whose message contains every one of `parts` (the op's name and the shapes).
void expect_shape_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
    const std::string message = shape_error_of(f);
    INFO("message: \"", message, "\"");
    REQUIRE_MESSAGE(!message.empty(), "no ShapeError was thrown");
    for (const std::string& part : parts) {
        CAPTURE(part);
        CHECK(contains(message, part));
    }
}

}  // namespace

// ---------------------------------------------------------------- linear algebra

TEST_CASE("ops forward: matmul") {
    const Var A = input({2, 3}, {1, 2, 3, 4, 5, 6});
    const Var B = input({3, 2}, {7, 8, 9, 10, 11, 12});
    const Var At = input({3, 2}, {1, 4, 2, 5, 3, 6});    // Aᵀ as stored
    const Var Bt = input({2, 3}, {7, 9, 11, 8, 10, 12});  // Bᵀ as stored
    // A·B: [1·7+2·9+3·11, 1·8+2·10+3·12; 4·7+5·9+6·11, 4·8+5·10+6·12]
    const Storage AB = {58, 64, 139, 154};
    // Each transpose flag undoes the transposed storage, so all four combinations give A·B.
    expect_values(matmul(A, B), {2, 2}, AB);
    expect_values(matmul(At, B, true, false), {2, 2}, AB);
    expect_values(matmul(A, Bt, false, true), {2, 2}, AB);
    expect_values(matmul(At, Bt, true, true), {2, 2}, AB);
    // The same stored matrix with different flags: A·Aᵀ (2, 2) and Aᵀ·A (3, 3).
    expect_values(matmul(A, A, false, true), {2, 2}, {14, 32, 32, 77});
    expect_values(matmul(A, A, true, false), {3, 3}, {17, 22, 27, 22, 29, 36, 27, 36, 45});
}

TEST_CASE("ops forward: linear is matmul plus the bias row") {
    const Var x = input({2, 3}, {1, 2, 3, 4, 5, 6});
    const Var W = input({3, 2}, {7, 8, 9, 10, 11, 12});
    const Var b = input({2}, {-58, 1});
    expect_values(linear(x, W, b), {2, 2}, {0, 65, 81, 155});  // A·B of the matmul case above, + b on each row
    const Var x3 = input({1, 2, 3}, {1, 2, 3, 4, 5, 6});
    expect_values(linear(x3, W, b), {1, 2, 2}, {0, 65, 81, 155});
    // An empty inner dimension: the product is all zeros, and linear gives the bias on every row.
    const Var x0 = input({2, 1, 0}, {}), W0 = input({0, 2}, {});
    expect_values(matmul(x0, W0), {2, 1, 2}, {0, 0, 0, 0});
    expect_values(linear(x0, W0, b), {2, 1, 2}, {-58, 1, -58, 1});
    CHECK(contains(error_of([&] { linear(x, W, input({3}, {0, 0, 0})); }), "linear: needs x (..., K), W (K, N), b (N) (shapes (2, 3) and (3, 2) and (3))"));
    // linear_residual: r + the same, in one node; r must have the output's shape.
    expect_values(linear_residual(x, W, b, input({2, 2}, {1, 2, 3, 4})), {2, 2}, {1, 67, 84, 159});
    CHECK(contains(error_of([&] { linear_residual(x, W, b, input({2, 3}, {0, 0, 0, 0, 0, 0})); }),
                   "linear_residual: the residual must have the output's shape (2, 2) (shapes (2, 3) and (3, 2) and (2) and (2, 3))"));
}

TEST_CASE("ops: layer_norm's rows walked side by side give the bits of one row at a time") {
    // 21 rows: two blocks of 8 walked side by side and a tail of 5; each row alone goes one at a time. The
    // values and dx must be the same bits (dγ and dβ sum over the rows: one call per row adds them in another
    // order, so they are left to the gradient check).
    Rng rng(8);
    const int rows = 21, D = 37;
    const Tensor x0 = randn(Shape{rows, D}, rng), dy0 = randn(Shape{rows, D}, rng);
    const Var g = parameter(randn(Shape{D}, rng), "g"), b = parameter(randn(Shape{D}, rng), "b");
    const Var x = parameter(x0, "x");
    const Var y = layer_norm(x, g, b);  // (rows, D)
    backward(sum(y * constant(dy0)));
    auto row_of = [&](const Tensor& t, int r) {  // (1, D)
        return Tensor::from(Shape{1, D}, std::vector<Real>(t.ptr() + int64_t(r) * D, t.ptr() + int64_t(r + 1) * D));
    };
    for (int r = 0; r < rows; ++r) {
        INFO("row ", r);
        const Var xr = parameter(row_of(x0, r), "x_r");
        const Var yr = layer_norm(xr, g, b);  // (1, D)
        backward(sum(yr * constant(row_of(dy0, r))));
        CHECK(yr.value().data == row_of(y.value(), r).data);
        CHECK(xr.grad().data == row_of(x.grad(), r).data);
    }
    tape().clear();
}

TEST_CASE("ops forward: bmm") {
    // Batch item 0 and 1 of a (2, 2, 3) and b (2, 3, 2), and the same items stored transposed.
    const Var a = input({2, 2, 3}, {1, 2, 3, 4, 5, 6, /**/ 0, 1, 0, 1, 0, -1});
    const Var b = input({2, 3, 2}, {1, 0, 0, 1, 1, 1, /**/ 2, 1, 1, 2, 0, 3});
    const Var at = input({2, 3, 2}, {1, 4, 2, 5, 3, 6, /**/ 0, 1, 1, 0, 0, -1});
    const Var bt = input({2, 2, 3}, {1, 0, 1, 0, 1, 1, /**/ 2, 1, 0, 1, 2, 3});
    // item 0: [1,2,3]·cols [1,0,1], [0,1,1] = 4, 5 and [4,5,6] → 10, 11
    // item 1: [0,1,0] → 1, 2 and [1,0,-1] → 2, 1-3 = -2
    const Storage ab = {4, 5, 10, 11, /**/ 1, 2, 2, -2};
    expect_values(bmm(a, b), {2, 2, 2}, ab);
    expect_values(bmm(at, b, true, false), {2, 2, 2}, ab);
    expect_values(bmm(a, bt, false, true), {2, 2, 2}, ab);
    expect_values(bmm(at, bt, true, true), {2, 2, 2}, ab);
    // a·aᵀ per item (the attention-score pattern q·kᵀ), and aᵀ·a per item.
    expect_values(bmm(a, a, false, true), {2, 2, 2}, {14, 32, 32, 77, /**/ 1, 0, 0, 2});
    expect_values(bmm(a, a, true, false), {2, 3, 3},
                  {17, 22, 27, 22, 29, 36, 27, 36, 45, /**/ 1, 0, -1, 0, 1, 0, -1, 0, 1});
}

// ---------------------------------------------------------------- pointwise

TEST_CASE("ops forward: add, sub, mul, div on equal shapes") {
    const Var a = input({2, 2}, {1, 2, 3, 4});
    const Var b = input({2, 2}, {5, 6, 8, 8});
    expect_values(add(a, b), {2, 2}, {6, 8, 11, 12});
    expect_values(sub(a, b), {2, 2}, {-4, -4, -5, -4});
    expect_values(mul(a, b), {2, 2}, {5, 12, 24, 32});
    expect_near(div(a, b), {2, 2}, {0.2, 1.0 / 3, 0.375, 0.5});
    // The operators are the same ops.
    expect_values(a + b, {2, 2}, {6, 8, 11, 12});
    expect_values(a - b, {2, 2}, {-4, -4, -5, -4});
    expect_values(a * b, {2, 2}, {5, 12, 24, 32});
    expect_near(a / b, {2, 2}, {0.2, 1.0 / 3, 0.375, 0.5});
}

TEST_CASE("ops forward: broadcasting in add, sub, mul, div") {
    const Var x = input({2, 3}, {1, 2, 3, 4, 5, 6});

    SUBCASE("a scalar on either side") {
        const Var s = constant(Tensor::scalar(2));
        expect_values(add(x, s), {2, 3}, {3, 4, 5, 6, 7, 8});
        expect_values(sub(s, x), {2, 3}, {1, 0, -1, -2, -3, -4});
        expect_values(mul(s, x), {2, 3}, {2, 4, 6, 8, 10, 12});
        expect_values(div(x, s), {2, 3}, {0.5, 1, 1.5, 2, 2.5, 3});
        expect_values(div(s, x), {2, 3}, {2, 1, 2.0 / 3, 0.5, 0.4, 2.0 / 6});  // exact: the same division
    }
    SUBCASE("a bias row (H) against (B, H)") {
        const Var bias = input({3}, {10, 20, 30});
        expect_values(add(x, bias), {2, 3}, {11, 22, 33, 14, 25, 36});
        expect_values(sub(x, bias), {2, 3}, {-9, -18, -27, -6, -15, -24});
        expect_values(add(bias, x), {2, 3}, {11, 22, 33, 14, 25, 36});
    }
    SUBCASE("(B, T, 1) against (B, T, H): one number per row") {
        const Var h = arange({2, 2, 3});                  // rows [0 1 2] [3 4 5] [6 7 8] [9 10 11]
        const Var w = input({2, 2, 1}, {1, 2, 3, 4});     // one weight per row
        expect_values(mul(h, w), {2, 2, 3}, {0, 1, 2, 6, 8, 10, 18, 21, 24, 36, 40, 44});
        expect_values(mul(w, h), {2, 2, 3}, {0, 1, 2, 6, 8, 10, 18, 21, 24, 36, 40, 44});
        expect_values(div(h, w), {2, 2, 3}, {0, 1, 2, 1.5, 2, 2.5, 2, 7.0 / 3, 8.0 / 3, 2.25, 2.5, 2.75});
    }
    SUBCASE("(B, 1, T) against (B, H, 1): both stretch") {
        const Var row = input({2, 1, 3}, {1, 2, 3, 4, 5, 6});
        const Var col = input({2, 2, 1}, {10, 20, 30, 40});
        // out[b, h, t] = row[b, 0, t] + col[b, h, 0]
        expect_values(add(row, col), {2, 2, 3}, {11, 12, 13, 21, 22, 23, 34, 35, 36, 44, 45, 46});
        expect_values(sub(col, row), {2, 2, 3}, {9, 8, 7, 19, 18, 17, 26, 25, 24, 36, 35, 34});
    }
}

TEST_CASE("ops forward: neg, scale, tanh, sigmoid, relu, exp, log") {
    const Var x = input({5}, {-2, -0.5, 0, 1, 3});
    expect_values(neg(x), {5}, {2, 0.5, 0, -1, -3});
    expect_values(-x, {5}, {2, 0.5, 0, -1, -3});
    expect_values(scale(x, 2.5), {5}, {-5, -1.25, 0, 2.5, 7.5});
    expect_values(Real(2.5) * x, {5}, {-5, -1.25, 0, 2.5, 7.5});
    expect_values(relu(x), {5}, {0, 0, 0, 1, 3});
    // tanh(v) = (e^v - e^-v) / (e^v + e^-v)
    expect_near(tanh(x), {5}, {-0.9640275800758169, -0.46211715726000974, 0, 0.7615941559557649, 0.9950547536867305});
    // σ(v) = 1 / (1 + e^-v);  σ(0) = 1/2 and σ(-v) = 1 - σ(v)
    expect_near(sigmoid(x), {5}, {0.11920292202211755, 0.3775406687981454, 0.5, 0.7310585786300049, 0.9525741268224334});
    expect_near(exp(x), {5}, {0.1353352832366127, 0.6065306597126334, 1, 2.718281828459045, 20.085536923187668});
    const Var pos = input({4}, {0.5, 1, 2, 10});
    expect_near(log(pos), {4}, {-0.6931471805599453, 0, 0.6931471805599453, 2.302585092994046});
    // Shapes other than 1-D pass straight through.
    expect_values(relu(input({2, 1, 2}, {-1, 2, 3, -4})), {2, 1, 2}, {0, 2, 3, 0});
}

// ---------------------------------------------------------------- reductions and shapes

TEST_CASE("ops forward: sum and mean") {
    const Var x = arange({2, 2, 3});  // x[i, j, k] = 6i + 3j + k: [[0 1 2] [3 4 5]] [[6 7 8] [9 10 11]]

    SUBCASE("all elements give a scalar") {
        expect_values(sum(x), {}, {66});  // 0 + 1 + … + 11 = 11·12/2
        expect_values(mean(x), {}, {5.5});
        expect_values(sum(input({2, 3}, {1, 2, 3, 4, 5, 6})), {}, {21});
    }
    SUBCASE("along each axis") {
        expect_values(sum(x, 0), {2, 3}, {6, 8, 10, 12, 14, 16});  // x[0] + x[1]
        expect_values(sum(x, 1), {2, 3}, {3, 5, 7, 15, 17, 19});   // row 0 + row 1 of each block
        expect_values(sum(x, 2), {2, 2}, {3, 12, 21, 30});         // each row's total
        expect_values(sum(x, -1), {2, 2}, {3, 12, 21, 30});        // -1 is the last axis
        expect_near(mean(x, 0), {2, 3}, {3, 4, 5, 6, 7, 8});
        expect_near(mean(x, 1), {2, 3}, {1.5, 2.5, 3.5, 7.5, 8.5, 9.5});
        expect_near(mean(x, 2), {2, 2}, {1, 4, 7, 10});
        expect_near(mean(x, -1), {2, 2}, {1, 4, 7, 10});
    }
    SUBCASE("keepdim leaves a 1 where the axis was") {
        expect_values(sum(x, 0, true), {1, 2, 3}, {6, 8, 10, 12, 14, 16});
        expect_values(sum(x, 1, true), {2, 1, 3}, {3, 5, 7, 15, 17, 19});
        expect_values(sum(x, 2, true), {2, 2, 1}, {3, 12, 21, 30});
        expect_near(mean(x, 0, true), {1, 2, 3}, {3, 4, 5, 6, 7, 8});
        expect_near(mean(x, 1, true), {2, 1, 3}, {1.5, 2.5, 3.5, 7.5, 8.5, 9.5});
        expect_near(mean(x, -1, true), {2, 2, 1}, {1, 4, 7, 10});
    }
    SUBCASE("a 1-D tensor reduces to a scalar, or to (1) with keepdim") {
        const Var v = input({4}, {1, 2, 3, 4});
        expect_values(sum(v, 0), {}, {10});
        expect_values(sum(v, 0, true), {1}, {10});
        expect_near(mean(v, 0), {}, {2.5});
    }
}

TEST_CASE("ops forward: reshape") {
    const Var x = arange({2, 3}, 1);
    // The row-major values never move; only the shape changes.
    expect_values(reshape(x, {3, 2}), {3, 2}, {1, 2, 3, 4, 5, 6});
    expect_values(reshape(x, {6}), {6}, {1, 2, 3, 4, 5, 6});
    expect_values(reshape(x, {1, 2, 1, 3}), {1, 2, 1, 3}, {1, 2, 3, 4, 5, 6});
    expect_values(reshape(input({1}, {7}), {}), {}, {7});
}

TEST_CASE("ops forward: transpose") {
    // 2-D: [[1 2 3] [4 5 6]] → [[1 4] [2 5] [3 6]]
    expect_values(transpose(arange({2, 3}, 1)), {3, 2}, {1, 4, 2, 5, 3, 6});
    // 3-D: the last two axes of each batch item: [[0 1 2] [3 4 5]] → [[0 3] [1 4] [2 5]], and item 1 likewise.
    expect_values(transpose(arange({2, 2, 3})), {2, 3, 2}, {0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11});
    // Transposing twice gives x back.
    const Var x = arange({2, 3, 4});
    expect_values(transpose(transpose(x)), {2, 3, 4}, x.value().data);
}

TEST_CASE("ops forward: permute") {
    // x (2, 3, 2) with x[i, j, k] = 6i + 2j + k.
    const Var x = arange({2, 3, 2});
    // y[j, i, k] = x[i, j, k]
    expect_values(permute(x, {1, 0, 2}), {3, 2, 2}, {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11});
    // y[k, i, j] = x[i, j, k]: all the k = 0 values first, then the k = 1 values
    expect_values(permute(x, {2, 0, 1}), {2, 2, 3}, {0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11});
    // The identity permutation copies.
    expect_values(permute(x, {0, 1, 2}), {2, 3, 2}, x.value().data);

    // 4-D, the multi-head split: (B, T, H, Dh) → (B, H, T, Dh), x[b, t, h, d] = 12b + 6t + 3h + d.
    const Var heads = arange({2, 2, 2, 3});
    expect_values(permute(heads, {0, 2, 1, 3}), {2, 2, 2, 3},
                  {0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11, 12, 13, 14, 18, 19, 20, 15, 16, 17, 21, 22, 23});
    // 4-D, all axes reversed: y[d, c, b, a] = x[a, b, c, d] with x (2, 1, 3, 2), x[a, 0, c, d] = 6a + 2c + d.
    expect_values(permute(arange({2, 1, 3, 2}), {3, 2, 1, 0}), {2, 3, 1, 2}, {0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11});
}

TEST_CASE("ops forward: concat") {
    const Var a = arange({2, 2, 2});      // [[0 1] [2 3]]  [[4 5] [6 7]]
    const Var b = arange({2, 2, 2}, 10);  // the same plus 10
    expect_values(concat({a, b}, 0), {4, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17});
    expect_values(concat({a, b}, 1), {2, 4, 2}, {0, 1, 2, 3, 10, 11, 12, 13, 4, 5, 6, 7, 14, 15, 16, 17});
    expect_values(concat({a, b}, 2), {2, 2, 4}, {0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 14, 15, 6, 7, 16, 17});
    expect_values(concat({a, b}, -1), {2, 2, 4}, {0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 14, 15, 6, 7, 16, 17});

    // Three inputs of different widths along the joined axis.
    const Var p = input({2, 1}, {1, 2});
    const Var q = input({2, 2}, {3, 4, 5, 6});
    const Var r = input({2, 3}, {7, 8, 9, 10, 11, 12});
    expect_values(concat({p, q, r}, 1), {2, 6}, {1, 3, 4, 7, 8, 9, 2, 5, 6, 10, 11, 12});
    expect_values(concat({q, input({1, 2}, {7, 8})}, 0), {3, 2}, {3, 4, 5, 6, 7, 8});
    expect_values(concat({q}, 0), {2, 2}, {3, 4, 5, 6});
}

TEST_CASE("ops forward: slice and select") {
    const Var x = arange({3, 4});  // [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
    expect_values(slice(x, 0, 1, 3), {2, 4}, {4, 5, 6, 7, 8, 9, 10, 11});
    expect_values(slice(x, 1, 1, 3), {3, 2}, {1, 2, 5, 6, 9, 10});
    expect_values(slice(x, -1, 3, 4), {3, 1}, {3, 7, 11});
    expect_values(slice(x, 1, 2, 2), {3, 0}, {});  // an empty window is allowed
    expect_values(slice(x, 0, 0, 3), {3, 4}, x.value().data);

    expect_values(select(x, 0, 2), {4}, {8, 9, 10, 11});
    expect_values(select(x, 1, 1), {3}, {1, 5, 9});
    expect_values(select(x, -1, 3), {3}, {3, 7, 11});
    // The middle axis of a 3-D tensor: x3[i, j, k] = 6i + 2j + k, j = 2 → 4, 5, 10, 11.
    expect_values(select(arange({2, 3, 2}), 1, 2), {2, 2}, {4, 5, 10, 11});
    expect_values(slice(arange({2, 3, 2}), 1, 0, 2), {2, 2, 2}, {0, 1, 2, 3, 6, 7, 8, 9});
}

TEST_CASE("ops forward: stack") {
    const Var a = input({2}, {1, 2}), b = input({2}, {3, 4}), c = input({2}, {5, 6});
    expect_values(stack({a, b, c}, 0), {3, 2}, {1, 2, 3, 4, 5, 6});
    expect_values(stack({a, b, c}, 1), {2, 3}, {1, 3, 5, 2, 4, 6});  // a new last axis
    expect_values(stack({a, b, c}, -1), {2, 3}, {1, 3, 5, 2, 4, 6});

    const Var p = input({2, 2}, {1, 2, 3, 4}), q = input({2, 2}, {5, 6, 7, 8});
    expect_values(stack({p, q}, 0), {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    expect_values(stack({p, q}, 1), {2, 2, 2}, {1, 2, 5, 6, 3, 4, 7, 8});
    expect_values(stack({p, q}, 2), {2, 2, 2}, {1, 5, 2, 6, 3, 7, 4, 8});  // a new last axis

    // select undoes stack along the same axis.
    for (int axis = 0; axis < 3; ++axis) {
        CAPTURE(axis);
        const Var s = stack({p, q}, axis);
        expect_values(select(s, axis, 0), {2, 2}, p.value().data);
        expect_values(select(s, axis, 1), {2, 2}, q.value().data);
    }
}

// ---------------------------------------------------------------- neural-network ops

TEST_CASE("ops forward: embedding") {
    const Var W = arange({4, 2});  // rows [0 1] [2 3] [4 5] [6 7]
    const IndexTensor ids = IndexTensor::from({2, 3}, {1, 0, 1, 3, 1, 2});
    expect_values(embedding(W, ids), {2, 3, 2}, {2, 3, 0, 1, 2, 3, 6, 7, 2, 3, 4, 5});
    expect_values(embedding(W, IndexTensor::from({1}, {3})), {1, 2}, {6, 7});

    SUBCASE("backward scatter-adds: a repeated id gets both contributions") {
        tape().clear();
        const Var table = parameter(W.value());
        const Var y = embedding(table, IndexTensor::from({3}, {2, 0, 2}));  // rows 2, 0, 2
        const Var g = input({3, 2}, {1, 2, 3, 4, 5, 6});                   // d loss / d y
        backward(sum(mul(y, g)));
        // row 0 gets g[1]; row 2 gets g[0] + g[2] = [1+5, 2+6]; rows 1 and 3 are not used.
        CHECK(table.grad().data == Storage{3, 4, 0, 0, 6, 8, 0, 0});
        tape().clear();
    }
    SUBCASE("an id outside the table throws out_of_range") {
        CHECK_THROWS_AS(embedding(W, IndexTensor::from({2}, {0, 4})), std::out_of_range);
        CHECK_THROWS_AS(embedding(W, IndexTensor::from({2}, {-1, 0})), std::out_of_range);
    }
}

TEST_CASE("ops forward: softmax") {
    // softmax([1, 2, 3]) = [e, e², e³] / (e + e² + e³); a constant row is uniform.
    const Storage s123 = {0.09003057317038046, 0.24472847105479764, 0.6652409557748218};
    expect_near(softmax(input({3}, {1, 2, 3})), {3}, s123);
    expect_near(softmax(input({2, 3}, {1, 2, 3, 0, 0, 0})), {2, 3}, {s123[0], s123[1], s123[2], 1.0 / 3, 1.0 / 3, 1.0 / 3});
    // Adding a constant to a row changes nothing, even a large one that would overflow exp.
    expect_near(softmax(input({3}, {1001, 1002, 1003})), {3}, s123);

    SUBCASE("masked positions are exactly zero") {
        // Only [1, 2] remain: [e, e²] / (e + e²) = σ(-1), σ(1).
        const Var y = softmax(input({3}, {1, 2, 3}), Tensor::from({3}, {1, 1, 0}));
        expect_near(y, {3}, {0.2689414213699951, 0.7310585786300049, 0});
        CHECK(y.value()[2] == 0.0);
    }
    SUBCASE("a fully masked row is all zeros, never NaN, and so is its gradient") {
        tape().clear();
        const Var x = parameter(Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}));
        const Var y = softmax(x, Tensor::from({2, 3}, {1, 1, 0, 0, 0, 0}));
        expect_near(y, {2, 3}, {0.2689414213699951, 0.7310585786300049, 0, 0, 0, 0});
        backward(sum(mul(y, input({2, 3}, {1, 2, 3, 4, 5, 6}))));
        CHECK(all_finite(x.grad()));
        for (int i : {2, 3, 4, 5}) {
            CAPTURE(i);
            CHECK(x.grad()[i] == 0.0);
        }
        tape().clear();
    }
    SUBCASE("a key mask (B, 1, T) broadcasts over the queries of (B, Tq, T)") {
        const Var x = input({2, 2, 3}, {1, 2, 3, 0, 0, 0, /**/ 1, 2, 3, 0, 0, 0});
        const Tensor mask = Tensor::from({2, 1, 3}, {1, 1, 1, /**/ 1, 0, 1});
        // Item 0 keeps everything. Item 1 drops key 1: [e, e³] / (e + e³) = σ(-2), σ(2); [1, 1] / 2.
        expect_near(softmax(x, mask), {2, 2, 3},
                    {s123[0], s123[1], s123[2], 1.0 / 3, 1.0 / 3, 1.0 / 3,  //
                     0.11920292202211755, 0, 0.8807970779778823, 0.5, 0, 0.5});
    }
}

TEST_CASE("ops forward: log_softmax") {
    // log_softmax(x) = x - log Σ exp(x); for [1, 2, 3], log(e + e² + e³) = 3.4076059644443806.
    expect_near(log_softmax(input({3}, {1, 2, 3})), {3}, {-2.4076059644443806, -1.4076059644443806, -0.4076059644443806});
    // Large inputs: exp(1000) overflows, but x - max keeps it finite. log(1 + e) = 1.3132616875182228.
    const Var y = log_softmax(input({2, 2}, {1000, 1001, -1000, -1001}));
    CHECK(all_finite(y.value()));
    expect_near(y, {2, 2}, {-1.3132616875182228, -0.3132616875182228, -0.3132616875182228, -1.3132616875182228});
    // exp(log_softmax) is softmax.
    const Var x = input({2, 3}, {0.5, -1, 2, 3, 3, -2});
    const Var p = softmax(x);
    expect_near(exp(log_softmax(x)), {2, 3}, p.value().data);
}

TEST_CASE("ops forward: cross_entropy") {
    // Row 0: logits [1, 2, 3], target 2 → -log softmax = 0.4076059644443806 (see log_softmax).
    // Row 1: logits [0, 0, 0], target 0 → log 3 = 1.0986122886681098.
    const Var logits = input({2, 3}, {1, 2, 3, 0, 0, 0});
    const double row0 = 0.4076059644443806, row1 = 1.0986122886681098;
    expect_near(cross_entropy(logits, IndexTensor::from({2}, {2, 0})), {}, {(row0 + row1) / 2});
    // (B, T, V) logits with (B, T) targets: the same rows, the same mean.
    expect_near(cross_entropy(reshape(logits, {1, 2, 3}), IndexTensor::from({1, 2}, {2, 0})), {}, {(row0 + row1) / 2});

    SUBCASE("ignored rows add nothing and are not counted") {
        expect_near(cross_entropy(logits, IndexTensor::from({2}, {2, -1})), {}, {row0});
        expect_near(cross_entropy(logits, IndexTensor::from({2}, {2, 0}), /*ignore_index=*/0), {}, {row0});
    }
    SUBCASE("every row ignored: loss 0, gradient 0, no NaN") {
        tape().clear();
        const Var x = parameter(logits.value());
        const Var loss = cross_entropy(x, IndexTensor::from({2}, {-1, -1}));
        CHECK(loss.item() == 0.0);
        backward(loss);
        CHECK(all_finite(x.grad()));
        CHECK(x.grad().data == Storage(6, 0.0));
        tape().clear();
    }
    SUBCASE("label smoothing") {
        // q = 0.9 onehot + 0.1 / 3, so loss = 0.9 (-log p_t) + (0.1 / 3) Σ_v (-log p_v).
        // Row 0: 0.9 · 0.4076059644443806 + (0.1 / 3) · (2.4076… + 1.4076… + 0.4076…) = 0.5076059644443807.
        // Row 1: every -log p_v is log 3, so the row stays log 3.
        expect_near(cross_entropy(logits, IndexTensor::from({2}, {2, 0}), -1, 0.1), {}, {(0.5076059644443807 + row1) / 2});
    }
}

TEST_CASE("ops forward: layer_norm") {
    const Var ones = input({4}, {1, 1, 1, 1}), zeros = input({4}, {0, 0, 0, 0});

    SUBCASE("gamma 1, beta 0: every row has mean 0 and variance 1") {
        const Var x = input({3, 4}, {1, 2, 3, 4, -5, 0.5, 10, 2, 100, 101, 99, 100.5});
        const Var y = layer_norm(x, ones, zeros, /*eps=*/0);  // eps 0, so the variance is exactly 1
        for (int r = 0; r < 3; ++r) {
            CAPTURE(r);
            Real m = 0, v = 0;
            for (int i = 0; i < 4; ++i) m += y.value()[r * 4 + i] / 4;
            for (int i = 0; i < 4; ++i) v += (y.value()[r * 4 + i] - m) * (y.value()[r * 4 + i] - m) / 4;
            CHECK(m == doctest::Approx(0).epsilon(kTol));
            CHECK(v == doctest::Approx(1).epsilon(kTol));
        }
    }
    SUBCASE("a hand-computed row with gamma, beta and the default eps") {
        // x = [1, 2, 3, 4]: mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25,
        // rstd = 1 / sqrt(1.25 + 1e-5) = 0.894423613312618, x̂ = [-1.5, -0.5, 0.5, 1.5] · rstd.
        const Var x = input({1, 4}, {1, 2, 3, 4});
        const Var gamma = input({4}, {1, 2, 0.5, -1}), beta = input({4}, {0, 1, -1, 0.5});
        // y = x̂ · gamma + beta
        expect_near(layer_norm(x, gamma, beta), {1, 4},
                    {-1.3416354199689269, 0.105576386687382, -0.7763940966718454, -0.8416354199689269});
    }
    SUBCASE("a constant row normalises to beta, not NaN (eps keeps rstd finite)") {
        const Var y = layer_norm(input({2, 4}, {2, 2, 2, 2, 1, 2, 3, 4}), ones, input({4}, {0, 1, 2, 3}));
        CHECK(all_finite(y.value()));
        for (int i = 0; i < 4; ++i) CHECK(y.value()[i] == 0.0 + i);
    }
}

TEST_CASE("ops forward: dropout") {
    const int n = 10000;
    const Var x = arange({n}, 1);  // 1, 2, …, n: each kept value can be traced to its own input

    SUBCASE("evaluation is the identity") {
        Rng rng(3);
        CHECK(dropout(x, 0.5, rng, /*training=*/false).value().data == x.value().data);
        CHECK(dropout(x, 0, rng, /*training=*/true).value().data == x.value().data);  // p = 0 drops nothing
    }
    SUBCASE("training: each value is 0 or x / (1 - p), and about p of them are 0") {
        const Real p = 0.25;
        Rng rng(11);
        const Var y = dropout(x, p, rng, true);
        REQUIRE(y.shape() == x.shape());
        int zeros = 0, wrong = 0;
        for (int i = 0; i < n; ++i) {
            if (y.value()[i] == 0) ++zeros;
            else if (y.value()[i] != doctest::Approx(x.value()[i] / (1 - p)).epsilon(kTol)) ++wrong;
        }
        CHECK(wrong == 0);
        // The zero count is Binomial(n, p): standard deviation sqrt(n p (1 - p)) ≈ 43, i.e. 0.0043 of n.
        CHECK(static_cast<double>(zeros) / n == doctest::Approx(p).epsilon(0.02));
    }
    SUBCASE("the same seed gives the same mask, another seed another") {
        Rng a(42), b(42), c(43);
        const Var ya = dropout(x, 0.5, a, true), yb = dropout(x, 0.5, b, true), yc = dropout(x, 0.5, c, true);
        CHECK(ya.value().data == yb.value().data);
        CHECK(ya.value().data != yc.value().data);
    }
}

// ---------------------------------------------------------------- shape errors

TEST_CASE("ops forward: shape errors name the op and the shapes") {
    const Var m23 = arange({2, 3});
    expect_shape_error([&] { matmul(m23, arange({4, 5})); }, {"matmul", "(2, 3)", "(4, 5)"});
    expect_shape_error([&] { matmul(m23, m23); }, {"matmul", "(2, 3)"});  // inner 3 vs 2 without trans_b
    expect_shape_error([&] { bmm(arange({2, 3, 4}), arange({3, 4, 5})); }, {"bmm", "(2, 3, 4)", "(3, 4, 5)"});
    expect_shape_error([&] { add(m23, arange({4, 3})); }, {"add", "(2, 3)", "(4, 3)"});
    expect_shape_error([&] { mul(m23, arange({3, 2})); }, {"mul", "(2, 3)", "(3, 2)"});
    expect_shape_error([&] { concat({m23, arange({2, 4})}, 0); }, {"concat", "(2, 3)", "(2, 4)"});
    expect_shape_error([&] { stack({m23, arange({3, 2})}, 0); }, {"stack", "(2, 3)", "(3, 2)"});
    expect_shape_error([&] { reshape(m23, {4, 2}); }, {"reshape", "(2, 3)", "(4, 2)"});
    expect_shape_error([&] { select(m23, 0, 2); }, {"select", "(2, 3)", "index 2"});
    expect_shape_error([&] { select(m23, 2, 0); }, {"select", "(2, 3)", "axis 2"});
    expect_shape_error([&] { slice(m23, 1, 1, 4); }, {"slice", "(2, 3)"});
    expect_shape_error([&] { permute(m23, {0, 0}); }, {"permute", "(2, 3)"});
    expect_shape_error([&] { sum(m23, 2); }, {"sum", "(2, 3)"});
    expect_shape_error([&] { softmax(arange({2, 2, 3}), Tensor(Shape{2, 1, 2}, 1)); }, {"softmax", "(2, 2, 3)", "(2, 1, 2)"});
    expect_shape_error([&] { layer_norm(arange({2, 4}), arange({3}), arange({4})); }, {"layer_norm", "(2, 4)", "(3)"});
    expect_shape_error([&] { cross_entropy(m23, IndexTensor::from({3}, {0, 1, 2})); }, {"cross_entropy", "(2, 3)", "(3)"});
}

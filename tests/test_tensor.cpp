// tests/test_tensor.cpp — Shape, Tensor, Rng, and the BLAS product against the naive reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "autodiff/tensor.h"
#include "tests/util.h"

using namespace s2a;

TEST_CASE("tensor: shapes") {
    Shape s{2, 3, 4};
    CHECK(s.numel() == 24);
    CHECK(s[-1] == 4);
    CHECK(s.str() == "(2, 3, 4)");
    CHECK(Shape{}.numel() == 1);
    CHECK(Shape{}.str() == "()");
    CHECK_THROWS_AS((Shape{1, 2, 3, 4, 5}), ShapeError);
    CHECK_THROWS_AS(Tensor::from(Shape{2, 2}, {1, 2, 3}), ShapeError);
    Tensor a(Shape{2}, 1), b(Shape{3}, 1);
    CHECK_THROWS_WITH_AS(a += b, "Tensor +=: shapes differ (shapes (2) and (3))", ShapeError);
}

TEST_CASE("tensor: an element count past 64 bits is an error, not a wrapped number") {
    CHECK(Shape{2147483647, 2147483647, 2}.numel() == 9223372028264841218);  // (2³¹ - 1)² · 2 < 2⁶³
    CHECK(Shape{65536, 65536, 0, 65536}.numel() == 0);
    CHECK_THROWS_WITH_AS(Shape({2147483647, 2147483647, 3}).numel(),
                         "Shape (2147483647, 2147483647, 3): more elements than a 64-bit count can hold", ShapeError);
    CHECK_THROWS_AS(Tensor(Shape{65536, 65536, 65536, 65536}), ShapeError);  // 2⁶⁴ would wrap to 0 elements
}

TEST_CASE("tensor: seeded generator is reproducible") {
    Rng a(7), b(7), c(8);
    for (int i = 0; i < 10; ++i) CHECK(a.next_u64() == b.next_u64());
    CHECK(a.next_u64() != c.next_u64());
    Rng r(1);
    double m = 0, v = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        const double x = r.normal();
        m += x;
        v += x * x;
    }
    CHECK(std::fabs(m / n) < 0.03);
    CHECK(std::fabs(v / n - 1) < 0.05);
    for (int i = 0; i < 1000; ++i) {
        const int k = r.randint(5);
        CHECK((k >= 0 && k < 5));
    }
}

TEST_CASE("tensor: BLAS gemm matches the naive loops for every transpose and several sizes") {
    Rng rng(3);
    for (int M : {1, 3, 17, 64})
        for (int N : {1, 5, 33})
            for (int K : {1, 4, 65})
                for (int ta = 0; ta < 2; ++ta)
                    for (int tb = 0; tb < 2; ++tb) {
                        Tensor A = randn(ta ? Shape{K, M} : Shape{M, K}, rng);
                        Tensor B = randn(tb ? Shape{N, K} : Shape{K, N}, rng);
                        Tensor C0 = randn(Shape{M, N}, rng), C1 = C0;
                        gemm(ta, tb, M, N, K, 0.5, A.ptr(), A.dim(1), B.ptr(), B.dim(1), 2, C0.ptr(), N);
                        gemm_naive(ta, tb, M, N, K, 0.5, A.ptr(), A.dim(1), B.ptr(), B.dim(1), 2, C1.ptr(), N);
                        INFO("M=", M, " N=", N, " K=", K, " ta=", ta, " tb=", tb);
                        CHECK(max_abs_diff(C0, C1) < 1e-12);
                    }
}

TEST_CASE("tensor: parallel_for runs every piece once, and an exception in any share reaches the caller") {
    std::vector<int> runs(37, 0);
    parallel_for(37, [&](int i) { ++runs[size_t(i)]; });  // each piece writes only its own element
    CHECK(std::count(runs.begin(), runs.end(), 1) == 37);
    for (int bad : {0, 1, 36}) {  // a piece of the caller's share, of another thread's, the last one
        INFO("piece ", bad, " throws");
        CHECK_THROWS_WITH_AS(parallel_for(37, [&](int i) {
                                 if (i == bad) throw std::runtime_error("piece failed");
                             }),
                             "piece failed", std::runtime_error);
    }
    parallel_for(4, [&](int i) { runs[size_t(i)] = 0; });  // the team still works after the throws
    CHECK(std::count(runs.begin(), runs.end(), 0) == 4);
}

// The threads parallel_for shares n pieces among: at most one per piece, gemm's threads, the team's size.
static int parallel_for_threads(int n) {
    return std::min({n, blas_threads(), std::max(1, int(std::thread::hardware_concurrency()))});
}

TEST_CASE("tensor: parallel_for's threads claim pieces as they go, so a slow thread runs fewer") {
    const int threads = parallel_for_threads(40);
    if (threads < 2) return;  // one thread runs them all
    const std::thread::id caller = std::this_thread::get_id();
    std::vector<std::thread::id> who(40);
    parallel_for(40, [&](int i) {  // a helper's piece takes 20 times as long as the caller's
        who[size_t(i)] = std::this_thread::get_id();
        std::this_thread::sleep_for(std::chrono::microseconds(who[size_t(i)] == caller ? 100 : 2000));
    });
    // Dealt out in advance, each of the threads would run the same number; claimed, the caller runs most.
    CHECK(std::count(who.begin(), who.end(), caller) > 40 / threads + 5);
}

TEST_CASE("tensor: parallel_for's team takes jobs back to back (its threads spinning) and after a pause (asleep)") {
    const int threads = parallel_for_threads(8);
    for (int pause_us : {0, 2000}) {  // 2 ms: well past the 50 µs a thread spins before it sleeps
        INFO("pause between jobs: ", pause_us, " µs");
        std::set<std::thread::id> workers;
        for (int job = 0; job < 50; ++job) {
            std::vector<int> runs(8, 0);
            std::vector<std::thread::id> who(8);
            parallel_for(8, [&](int i) {  // pieces of 100 µs: the threads claim them as they go, so a piece
                ++runs[size_t(i)], who[size_t(i)] = std::this_thread::get_id();  // must last for a helper
                std::this_thread::sleep_for(std::chrono::microseconds(100));     // to wake in time for one
            });
            REQUIRE(std::count(runs.begin(), runs.end(), 1) == 8);
            workers.insert(who.begin(), who.end());
            std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
        }
        CHECK(int(workers.size()) == threads);  // every helper ran shares, asleep or not
    }
}

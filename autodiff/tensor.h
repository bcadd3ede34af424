// autodiff/tensor.h — the Tensor: a contiguous, row-major buffer of Real numbers with up to 4 dimensions.
//
// A Tensor is a plain value: a shape and a flat buffer. It knows nothing about gradients; the tape
// (tape.h) wraps tensors in nodes and records how each was made. Keeping the two apart keeps both small.
//
// Real is float in the chapter programs and double in the gradient checks: the whole library is compiled
// twice (build/f32 and build/f64, see the Makefile), so learner-facing code just says Real.
//
// Also here: IndexTensor (integer ids for embeddings and targets), Rng (a seeded generator whose output
// is the same on every platform), gemm (every matrix product in the project goes through it, and from
// there to OpenBLAS), and the ShapeError that every op throws when shapes do not fit.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace s2a {

#ifdef SEQ2ATTN_DOUBLE
using Real = double;
#else
using Real = float;
#endif

// Thrown by every op whose inputs do not fit; the message names the op and the shapes.
struct ShapeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A shape of 0..4 dimensions. Negative indices count from the back: s[-1] is the last dimension.
struct Shape {
    static constexpr int kMaxDims = 4;
    int ndim = 0;
    std::array<int, kMaxDims> dims{};

    Shape() = default;
    Shape(std::initializer_list<int> d);
    static Shape of(const std::vector<int>& d);

    int operator[](int i) const { return dims[i < 0 ? ndim + i : i]; }
    int& operator[](int i) { return dims[i < 0 ? ndim + i : i]; }
    int64_t numel() const;
    bool operator==(const Shape& o) const;
    bool operator!=(const Shape& o) const { return !(*this == o); }
    std::string str() const;  // "(2, 3)"
};

// The profiler's hooks (autodiff/profile.h). While a Profile is alive on this thread, g_work points at its
// counters: every storage allocation adds its bytes and every matrix product (gemm) its 2·M·N·K FLOPs, and
// an op whose arithmetic is not a product declares its own with count_flops; gemm also adds the wall time the
// thread spent in it. With no Profile it is null, and each hook costs one predictable branch.
struct WorkCounters {
    double flops = 0;   // floating-point operations, a multiply-add counting two
    int64_t bytes = 0;  // tensor storage allocated
    double gemm_s = 0;  // seconds in gemm (its OpenBLAS calls, and waiting for the other cores' blocks)
};
extern thread_local WorkCounters* g_work;
inline void count_flops(double n) {
    if (g_work) g_work->flops += n;
}

// Tensor memory: the bytes of every storage buffer alive, on any thread, counted by the allocator below (one
// atomic add per allocation and per release, whether or not a Profile is alive: a buffer may outlive the
// Profile that saw it made), and the most there has been since the peak was last restarted. The profiler's
// memory line reads them: what a step keeps for backward and its peak, in tensors (RSS adds the heap's slack,
// the program and its libraries).
void count_tensor_bytes(int64_t delta);    // the allocator's hook: + bytes allocated, - bytes released
int64_t tensor_bytes_in_use();
int64_t peak_tensor_bytes();
int64_t restart_peak_tensor_bytes();       // peak := in use now; returns the peak it ends
void raise_peak_tensor_bytes(int64_t at_least);  // peak := max(peak, at_least): hands a peak back to an outer Profile

// The storage allocator. Its one difference from std::allocator: growing a buffer without a fill value
// leaves the new elements uninitialised instead of zeroing them. An op whose output it overwrites
// completely (a matrix product, a pointwise map) asks for such a buffer with Tensor::uninitialized; zeroing
// megabytes that are about to be overwritten cost about a tenth of a training step. The one place storage
// is allocated, so an arena can replace it (and so the profiler counts the bytes here).
template <class T>
struct UninitializedAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = UninitializedAllocator<U>;
    };
    using std::allocator<T>::allocator;
    T* allocate(size_t n) {
        if (g_work) g_work->bytes += static_cast<int64_t>(n * sizeof(T));
        T* p = std::allocator<T>::allocate(n);
        count_tensor_bytes(static_cast<int64_t>(n * sizeof(T)));
#ifdef SEQ2ATTN_POISON
        // Checking builds fill new storage with NaN: an op that reads a value it never wrote then shows as NaN
        // in its output (and fails its gradient check) instead of computing with whatever the heap held.
        if constexpr (std::is_floating_point_v<T>) std::fill(p, p + n, std::numeric_limits<T>::quiet_NaN());
#endif
        return p;
    }
    void deallocate(T* p, size_t n) {
        count_tensor_bytes(-static_cast<int64_t>(n * sizeof(T)));
        std::allocator<T>::deallocate(p, n);
    }
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;  // default-initialisation: for a number, no write at all
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
using Storage = std::vector<Real, UninitializedAllocator<Real>>;

struct Tensor {
    Shape shape;
    Storage data;  // row-major

    Tensor() = default;
    explicit Tensor(const Shape& s, Real fill = 0);
    // A tensor whose values are garbage until written: only for outputs the caller fills completely.
    static Tensor uninitialized(const Shape& s);
    static Tensor from(const Shape& s, const std::vector<Real>& values);  // throws if sizes differ
    static Tensor scalar(Real v) { return from(Shape{}, {v}); }

    int64_t numel() const { return static_cast<int64_t>(data.size()); }
    int ndim() const { return shape.ndim; }
    int dim(int i) const { return shape[i]; }
    bool empty() const { return data.empty(); }
    Real* ptr() { return data.data(); }
    const Real* ptr() const { return data.data(); }
    Real& operator[](int64_t i) { return data[i]; }
    Real operator[](int64_t i) const { return data[i]; }
    Real item() const;  // the single value of a one-element tensor

    void fill(Real v);
    Tensor& operator+=(const Tensor& o);  // same shape only: gradient accumulation
    std::string str(int max_per_row = 8) const;  // short printable form for chapters and errors
};

// Integer ids (tokens, targets) with a shape, e.g. a batch of source sentences: (B, T).
struct IndexTensor {
    Shape shape;
    std::vector<int> data;

    IndexTensor() = default;
    explicit IndexTensor(const Shape& s, int fill = 0);
    static IndexTensor from(const Shape& s, std::vector<int> values);
    int64_t numel() const { return static_cast<int64_t>(data.size()); }
    int& operator[](int64_t i) { return data[i]; }
    int operator[](int64_t i) const { return data[i]; }
};

// A seeded pseudo-random generator. The distributions are written here (not std::normal_distribution,
// whose output differs between standard libraries) so a seed gives the same numbers everywhere.
class Rng {
  public:
    explicit Rng(uint64_t seed = 0);
    uint64_t state() const { return state_; }  // Rng(state()) continues this stream: what a resumed run restores
    uint64_t next_u64();         // splitmix64
    double uniform();            // [0, 1)
    double uniform(double lo, double hi);
    double normal();             // standard normal, Box-Muller
    int randint(int n);          // 0 .. n-1
    bool bernoulli(double p);    // true with probability p (one integer comparison: cheap enough for masks)
    template <class T>
    void shuffle(std::vector<T>& v) {  // Fisher-Yates
        for (int i = static_cast<int>(v.size()) - 1; i > 0; --i) std::swap(v[i], v[randint(i + 1)]);
    }

  private:
    uint64_t state_;
};

Tensor randn(const Shape& s, Rng& rng, Real std = 1);
Tensor rand_uniform(const Shape& s, Rng& rng, Real lo, Real hi);

// How many threads gemm may split one matrix product over (default: one per core). Programs that train
// several models at once, one per core, set it to 1 (see experiments/side_by_side.h). It changes only the
// speed, never a bit of the result (see gemm).
int blas_threads();
void set_blas_threads(int n);

// The name of the kernel set OpenBLAS runs on this processor ("SkylakeX", "Zen", "Haswell", …), after the pin
// described in tensor.cpp: with the code and the seed, it decides a result's last bits (README, Reproducibility).
std::string blas_kernels();

// C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, row-major, through OpenBLAS.
// op(X) is X or Xᵀ; lda/ldb/ldc are the row strides of A, B, C as stored. A large product is cut into
// blocks of C fixed by its shape (two halves of its larger side), one single-threaded OpenBLAS call each,
// shared among blas_threads() threads: the result is the same bits whatever the thread count (tensor.cpp
// says why, and which few products keep smaller blocks of rows).
void gemm(bool trans_a, bool trans_b, int M, int N, int K, Real alpha, const Real* A, int lda,
          const Real* B, int ldb, Real beta, Real* C, int ldc);
// work(i) for i = 0 … n - 1, shared among blas_threads() threads (gemm's), returning when all have run: for
// many independent pieces of work each too small to split, such as attention's products per sentence and head.
// Each work(i) must write only its own part of the output; which thread runs it then changes no bit. A
// profile on the calling thread counts the FLOPs and bytes of every piece. The threads claim the pieces as
// they go (a slow thread runs fewer). If a work(i) throws, its thread claims no more, and the first exception
// is rethrown here once every thread has stopped.
void parallel_for(int n, const std::function<void(int)>& work);
// work(begin, end) over [0, n) cut into contiguous ranges, one per thread, when n is at least two grains;
// otherwise work(0, n) on the calling thread (waking a thread costs about as much as a small loop). For loops
// whose every element (a pointwise op) or every column (a sum down a column, rows in order) is computed by one
// range alone: then how [0, n) is cut changes no bit.
void parallel_ranges(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& work);
// The grain of a pointwise pass: 64K elements, about 20 µs of work, well above the cost of a wake-up.
constexpr int64_t kPointwiseGrain = int64_t(1) << 16;
// The same product as three plain loops: the readable reference the tests hold gemm to.
void gemm_naive(bool trans_a, bool trans_b, int M, int N, int K, Real alpha, const Real* A, int lda,
                const Real* B, int ldb, Real beta, Real* C, int ldc);

// Throws ShapeError("op: what (shapes...)"), e.g. shape_error("matmul", "inner dimensions differ", {a, b}).
[[noreturn]] void shape_error(const char* op, const std::string& what, std::initializer_list<Shape> shapes);

}  // namespace s2a

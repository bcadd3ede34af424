// autodiff/tensor.cpp — Shape, Tensor, IndexTensor, Rng and the BLAS matrix product.
#include "autodiff/tensor.h"

#include <cblas.h>
#include <fmt/format.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

namespace s2a {

// Memory. A training step allocates the same buffers every time and tape().clear() frees them all. By
// default glibc hands large freed blocks back to the operating system, so the next step page-faults them
// in again, zero-filled by the kernel: about a third of a seq2seq training step. Asking glibc to keep freed
// memory turns the heap into a simple per-process arena that every step reuses. (A real per-step arena can
// replace this behind Tensor::data without changing any op.)
static const bool g_keep_freed_memory = [] {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);  // blocks up to 256 MiB come from the heap, not fresh mmap
    mallopt(M_TRIM_THRESHOLD, 1 << 30);    // and the heap is not trimmed until 1 GiB is free
    return true;
}();

thread_local WorkCounters* g_work = nullptr;

namespace {
std::atomic<int64_t> g_tensor_bytes{0};  // in use now
std::atomic<int64_t> g_peak_bytes{0};    // the most since the last restart
}  // namespace

void count_tensor_bytes(int64_t delta) {
    const int64_t now = g_tensor_bytes.fetch_add(delta, std::memory_order_relaxed) + delta;
    if (delta > 0) raise_peak_tensor_bytes(now);
}
int64_t tensor_bytes_in_use() { return g_tensor_bytes.load(std::memory_order_relaxed); }
int64_t peak_tensor_bytes() { return g_peak_bytes.load(std::memory_order_relaxed); }
int64_t restart_peak_tensor_bytes() { return g_peak_bytes.exchange(tensor_bytes_in_use(), std::memory_order_relaxed); }
void raise_peak_tensor_bytes(int64_t at_least) {
    int64_t peak = g_peak_bytes.load(std::memory_order_relaxed);
    while (at_least > peak && !g_peak_bytes.compare_exchange_weak(peak, at_least, std::memory_order_relaxed)) {
    }
}

// ---------------------------------------------------------------- Shape

Shape::Shape(std::initializer_list<int> d) {
    if (d.size() > kMaxDims) throw ShapeError(fmt::format("Shape: at most {} dimensions, got {}", kMaxDims, d.size()));
    for (int v : d) {
        if (v < 0) throw ShapeError(fmt::format("Shape: negative dimension {}", v));
        dims[ndim++] = v;
    }
}

Shape Shape::of(const std::vector<int>& d) {
    if (d.size() > kMaxDims) throw ShapeError(fmt::format("Shape: at most {} dimensions, got {}", kMaxDims, d.size()));
    Shape s;
    for (int v : d) {
        if (v < 0) throw ShapeError(fmt::format("Shape: negative dimension {}", v));
        s.dims[s.ndim++] = v;
    }
    return s;
}

// Four dimensions of up to 2³¹ - 1 can multiply past 2⁶³ - 1: the product is checked, not left to wrap.
int64_t Shape::numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) {
        if (dims[i] != 0 && n > std::numeric_limits<int64_t>::max() / dims[i])
            throw ShapeError(fmt::format("Shape {}: more elements than a 64-bit count can hold", str()));
        n *= dims[i];
    }
    return n;
}

bool Shape::operator==(const Shape& o) const {
    if (ndim != o.ndim) return false;
    for (int i = 0; i < ndim; ++i)
        if (dims[i] != o.dims[i]) return false;
    return true;
}

std::string Shape::str() const {
    std::string s = "(";
    for (int i = 0; i < ndim; ++i) s += fmt::format(i ? ", {}" : "{}", dims[i]);
    return s + ")";
}

void shape_error(const char* op, const std::string& what, std::initializer_list<Shape> shapes) {
    std::string msg = fmt::format("{}: {}", op, what);
    const char* sep = " (shapes ";
    for (const Shape& s : shapes) {
        msg += sep + s.str();
        sep = " and ";
    }
    if (shapes.size()) msg += ")";
    throw ShapeError(msg);
}

// ---------------------------------------------------------------- Tensor

Tensor::Tensor(const Shape& s, Real fill) : shape(s), data(static_cast<size_t>(s.numel()), fill) {}

Tensor Tensor::uninitialized(const Shape& s) {
    Tensor t;
    t.shape = s;
    t.data.resize(static_cast<size_t>(s.numel()));  // UninitializedAllocator: no zeroing
    return t;
}

Tensor Tensor::from(const Shape& s, const std::vector<Real>& values) {
    if (static_cast<int64_t>(values.size()) != s.numel())
        throw ShapeError(fmt::format("Tensor::from: shape {} needs {} values, got {}", s.str(), s.numel(), values.size()));
    Tensor t;
    t.shape = s;
    t.data.assign(values.begin(), values.end());
    return t;
}

Real Tensor::item() const {
    if (numel() != 1) shape_error("item", "needs a tensor with exactly one element", {shape});
    return data[0];
}

void Tensor::fill(Real v) { std::fill(data.begin(), data.end(), v); }

Tensor& Tensor::operator+=(const Tensor& o) {
    if (shape != o.shape) shape_error("Tensor +=", "shapes differ", {shape, o.shape});
    const Real* src = o.ptr();
    Real* dst = ptr();
    for (int64_t i = 0, n = numel(); i < n; ++i) dst[i] += src[i];
    return *this;
}

std::string Tensor::str(int max_per_row) const {
    if (ndim() == 0) return fmt::format("{:.6g}", data.empty() ? Real(0) : data[0]);
    const int cols = shape[-1];
    const int64_t rows = cols ? numel() / cols : 0;
    std::string s;
    for (int64_t r = 0; r < rows; ++r) {
        s += r ? "\n [" : "[[";
        for (int c = 0; c < cols && c < max_per_row; ++c) s += fmt::format(c ? " {:9.4f}" : "{:9.4f}", data[r * cols + c]);
        if (cols > max_per_row) s += " ...";
        s += "]";
    }
    return s + "]";
}

// ---------------------------------------------------------------- IndexTensor

IndexTensor::IndexTensor(const Shape& s, int fill) : shape(s), data(static_cast<size_t>(s.numel()), fill) {}

IndexTensor IndexTensor::from(const Shape& s, std::vector<int> values) {
    if (static_cast<int64_t>(values.size()) != s.numel())
        throw ShapeError(fmt::format("IndexTensor::from: shape {} needs {} values, got {}", s.str(), s.numel(), values.size()));
    IndexTensor t;
    t.shape = s;
    t.data = std::move(values);
    return t;
}

// ---------------------------------------------------------------- Rng

Rng::Rng(uint64_t seed) : state_(seed) {}

// splitmix64: tiny, fast, and good enough for initialisation, shuffling and dropout masks.
uint64_t Rng::next_u64() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }  // 53 bits

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

// Box-Muller: two uniforms → one standard normal (the second one is simply dropped).
double Rng::normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

bool Rng::bernoulli(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return next_u64() < static_cast<uint64_t>(p * 18446744073709551616.0);  // p · 2⁶⁴
}

int Rng::randint(int n) { return static_cast<int>(next_u64() % static_cast<uint64_t>(n)); }

Tensor randn(const Shape& s, Rng& rng, Real std) {
    Tensor t(s);
    for (auto& v : t.data) v = static_cast<Real>(rng.normal()) * std;
    return t;
}

Tensor rand_uniform(const Shape& s, Rng& rng, Real lo, Real hi) {
    Tensor t(s);
    for (auto& v : t.data) v = static_cast<Real>(rng.uniform(lo, hi));
    return t;
}

// ---------------------------------------------------------------- matrix products
//
// The threading policy: one place, for every product in the project. OpenBLAS, left to itself, splits a large
// product over as many threads as it is told to use, and the split decides which of its kernels computes
// which element of C (a full tile or an edge one, each adding up its K terms in its own order). So the last
// bits of a product, and after a few hundred steps the whole training run, depend on the thread count: on
// this project's test machine, a model trained alone (OpenBLAS on both cores) and the same model trained
// beside others (one thread each) ended with different weights (tests/test_determinism.cpp).
//
// So OpenBLAS always runs on one thread, and gemm splits a large product itself: into blocks of rows or columns of C
// whose boundaries depend on the product's shape alone. Each block is one single-threaded OpenBLAS call,
// whichever thread makes it, so 1 thread or 8, alone or beside other models, every element of C is added up
// in the same order and a seed gives the same weights to the last bit.

static const bool g_blas_single_threaded = [] {
    openblas_set_num_threads(1);
    return true;
}();

// Which kernels. OpenBLAS picks its kernels for the processor when it loads, and two kernel sets can add a
// product's terms in different orders: the same seed printed other digits with the Cooperlake kernels OpenBLAS
// 0.3.21 picks on an AMD EPYC with AVX-512 than with the SkylakeX kernels the published figures were measured
// with (chapter 3's epoch-2 loss 0.0188 against 0.0189). A Cooperlake (or Sapphire Rapids) processor has every
// instruction SkylakeX's kernels use, so there the program asks for those — as MKL's MKL_CBWR pins its code
// path. OpenBLAS reads OPENBLAS_CORETYPE only while it loads, before any code of ours runs, so the process
// starts itself again with the variable set. A value the user set is left alone; if the restart fails, the
// program runs on with the kernels OpenBLAS chose (same results to float precision, other last bits).
static void pin_blas_kernels() {
    const std::string core = openblas_get_corename();
    if (std::getenv("OPENBLAS_CORETYPE") || (core != "Cooperlake" && core != "SapphireRapids")) return;
    std::ifstream in("/proc/self/cmdline", std::ios::binary);  // argv, each ending in '\0'
    std::vector<std::string> args;
    for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
    if (args.empty()) return;
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv.data());  // returns only if it failed
}

static const bool g_blas_kernels_pinned = (pin_blas_kernels(), true);

std::string blas_kernels() { return openblas_get_corename(); }

// How many threads one product may use (blas_threads): the cores, unless a program lowers it.
static std::atomic<int> g_product_threads{std::max(1, static_cast<int>(std::thread::hardware_concurrency()))};

int blas_threads() { return g_product_threads; }
void set_blas_threads(int n) { g_product_threads = std::max(n, 1); }

namespace {

// The threads that share gemm's blocks, started once and kept for the whole program: starting a thread for
// each product costs tens of microseconds, as long as a whole 128×128×128 product on one core, and a training
// step makes hundreds of products. The caller runs share 0 itself.
// One job at a time: a caller that finds the team busy (models trained side by side on several threads), or
// that is itself running a share (a product inside parallel_for's work), runs every share itself. Which thread
// computes a block never changes its bits, so neither does the result.
//
// Waiting. Jobs come in bursts: an LSTM step is a product, the gates, the next product, tens of microseconds
// apart. Waking a sleeping thread (a futex call, then the scheduler) takes about as long, so a thread that has
// just finished a job, and a caller waiting for its helpers, first spins for up to kSpin watching the team's
// counters (a new job's generation_, the helpers' pending_), and only then sleeps on a condition variable. Between training steps, or when the program does
// something else, every helper is asleep after kSpin: nothing spins for longer than that.
thread_local bool t_in_share = false;  // this thread is running a share of a job

class Team {
  public:
    explicit Team(int helpers) {
        for (int i = 1; i <= helpers; ++i) threads_.emplace_back([this, i] { t_in_share = true, serve(i); });
    }
    ~Team() {
        {
            std::lock_guard<std::mutex> lock(m_);
            stop_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : threads_) t.join();
    }
    int size() const { return int(threads_.size()) + 1; }

    // share(t) for t = 0 … n - 1 (n ≤ size()), share(0) on the calling thread; returns when all have run.
    void run(int n, const std::function<void(int)>& share) {
        std::unique_lock<std::mutex> busy(busy_, std::defer_lock);
        if (n <= 1 || t_in_share || !busy.try_lock()) {
            for (int t = 0; t < n; ++t) share(t);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(m_);
            job_ = &share;
            shares_ = n;
            pending_.store(n - 1, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);  // a spinning helper starts here
        }
        wake_.notify_all();  // a sleeping one here
        t_in_share = true;
        share(0);
        t_in_share = false;
        if (spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) return;
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }

  private:
    static constexpr std::chrono::microseconds kSpin{50};

    // Polls ready() for up to kSpin; true as soon as it holds.
    template <class Ready>
    static bool spin_until(const Ready& ready) {
        const auto until = std::chrono::steady_clock::now() + kSpin;
        for (int i = 1;; ++i) {
            if (ready()) return true;
            if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return false;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();  // tells the core this is a wait loop: less power, no pipeline flush on exit
#endif
        }
    }

    void serve(int i) {
        uint64_t seen = 0;
        for (;;) {
            const auto new_job = [&] { return generation_.load(std::memory_order_acquire) != seen; };
            const bool spun = spin_until(new_job);
            std::unique_lock<std::mutex> lock(m_);  // job_ and shares_ belong to the generation read under it
            if (!spun) {
                wake_.wait(lock, [&] { return stop_ || new_job(); });
                if (stop_) return;
            }
            seen = generation_.load(std::memory_order_relaxed);
            if (i >= shares_) continue;
            const std::function<void(int)>* const job = job_;
            lock.unlock();
            (*job)(i);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lock(m_);  // the caller tests pending_ under m_ before it sleeps
                done_.notify_one();
            }
        }
    }

    std::vector<std::thread> threads_;
    std::mutex busy_;                          // held by the caller whose job the team runs
    std::mutex m_;                             // guards the job's description and the sleeps
    std::condition_variable wake_, done_;
    const std::function<void(int)>* job_ = nullptr;
    int shares_ = 0;                           // this job's shares
    std::atomic<int> pending_{0};              // those not yet finished by the team
    std::atomic<uint64_t> generation_{0};      // one more for each job (written under m_)
    bool stop_ = false;
};

Team& team() {
    static Team t(std::max(1, static_cast<int>(std::thread::hardware_concurrency())) - 1);
    return t;
}

// How a product is shared: in two blocks, the larger of C's two sides cut in halves, when each half is too large
// for OpenBLAS's small-matrix kernels (on AVX-512 machines they take products of up to 100³ multiply-adds and
// add up in another order than its main kernel); otherwise in one call. Each block is one single-threaded
// OpenBLAS call, so the split, and with it every bit of C, depends on the shape alone. The cut lies on a
// multiple of 16, a whole number of the main kernel's tiles, and with the SkylakeX kernels the published figures
// were measured with the halves then give exactly the bits of the undivided call in float (2,300 random shapes,
// every transpose, OpenBLAS 0.3.21: no element differed). In double a fifth of those shapes differed from one
// call in some last place (its kernels tile otherwise), and so do the Zen kernels of an AMD processor without
// AVX-512 in float (476 of 600 random shapes; of a (3712, 256) · (256, 256) product, 20,505 of the 950,272
// elements, from the 8 rows before the cut on): still the same bits on any number of threads, which is what the
// project needs, but another cut would change them there.
// Cutting the larger side keeps what the halves repeat small: a call packs all of the operand it does not
// cut, so halving the rows makes both halves pack all of op(B) (K × N), halving the columns both pack op(A)
// (M × K). Two blocks, not one per core: the bits may not depend on the machine, and more blocks cost more than
// they give on two cores (eight 32-row blocks of a weight's gradient, M 256, N 1,024, K 3,712, each packing all
// of op(B) again, ran at 92 GFLOP/s; two halves at 152; the LSTM's step, M 128, N 1,024, K 256, 126 and 156).
//
// One exception keeps every result this project has published: its products used to be cut into blocks of
// rows (at most 8, each at least 32 rows and a multiple of 16), and where one of those blocks was small enough
// for the small-matrix kernels, its elements were added up in their order, not in one call's. Those products
// (a per-step decoder output, M 128, N 59, K 256; an embedding's K 16) are still cut that way. Every other
// product's old blocks gave one call's bits too (in float), so the float chapters print the same digits with
// either split (and chapter 0, in double, printed `make reproduce`'s table again).
struct Split {
    bool by_columns;  // cut N (columns of C), else M (rows)
    int block;        // rows or columns per block; the last block has what is left
    int blocks;
};

Split split_product(int M, int N, int K) {
    constexpr double kSmallKernelMax = 100.0 * 100.0 * 100.0;  // multiply-adds OpenBLAS may send to its small kernels
    const auto small = [K](int rows, int cols) { return double(rows) * cols * K <= kSmallKernelMax; };
    if (double(M) * N * K >= double(1 << 20)) {  // the old blocks, and the size below which they were one call
        const int rows = std::max(32, ((M + 7) / 8 + 15) / 16 * 16), blocks = (M + rows - 1) / rows;
        if (blocks > 1 && small(M - (blocks - 1) * rows, N)) return {false, rows, blocks};  // the last is the smallest
    }
    const bool by_columns = N > M;
    const int side = by_columns ? N : M, other = by_columns ? M : N;
    const int half = ((side + 1) / 2 + 15) / 16 * 16;  // rounded up to whole tiles: the second block is the smaller
    if (half < side && !small(side - half, other)) return {by_columns, half, 2};
    return {false, M, 1};
}

// One overload per precision; only the one matching Real is called in a given build.
inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float* A, int lda,
                      const float* B, int ldb, float beta, float* C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha, const double* A,
                      int lda, const double* B, int ldb, double beta, double* C, int ldc) {
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
}  // namespace

void gemm(bool trans_a, bool trans_b, int M, int N, int K, Real alpha, const Real* A, int lda, const Real* B, int ldb,
          Real beta, Real* C, int ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {  // BLAS leaves C alone when K = 0 only for some implementations; be explicit: C = beta C
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j];
        return;
    }
    count_flops(2.0 * M * N * K);  // a multiply and an add for each of K terms of each of M·N outputs
    // The profiler's product time: this call's wall time, on the thread that made it (see parallel_for).
    WorkCounters* const counters = g_work;
    const auto start = counters ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    const Split split = split_product(M, N, K);
    const int side = split.by_columns ? N : M;
    // One call per block, shared among the cores: C[r : r + m, c : c + n] = alpha op(A)[r : r + m] op(B)[:, c : c + n]
    // + beta C[r : r + m, c : c + n], with the block's rows or columns and all of the other side.
    parallel_for(split.blocks, [&](int b) {
        const int start = b * split.block, size = std::min(split.block, side - start);
        const int r = split.by_columns ? 0 : start, m = split.by_columns ? M : size;
        const int c = split.by_columns ? start : 0, n = split.by_columns ? size : N;
        const Real* A_rows = trans_a ? A + r : A + int64_t(r) * lda;  // op(A)'s row r: A's column r if transposed
        const Real* B_cols = trans_b ? B + int64_t(c) * ldb : B + c;  // op(B)'s column c: B's row c if transposed
        blas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, K, alpha, A_rows, lda,
                  B_cols, ldb, beta, C + int64_t(r) * ldc + c, ldc);
    });
    if (counters) counters->gemm_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// work(0 … n-1), the pieces claimed in chunks by the team's threads as they go (see below)
void parallel_for(int n, const std::function<void(int)>& work) {
    const int threads = std::max(1, std::min({n, blas_threads(), team().size()}));
    // The profile's counters live on the calling thread. A share the caller runs itself counts into them
    // directly, so that an op inside it (a model decoding in a share of generate_batches) is charged its own
    // FLOPs and bytes; a helper's share counts apart, added to the caller's once all have run.
    WorkCounters* const caller = g_work;
    const std::thread::id calling_thread = std::this_thread::get_id();
    std::vector<WorkCounters> counted(caller ? threads : 0);  // no allocation when nothing is profiled
    std::exception_ptr error;  // the first exception a share threw: rethrown on the calling thread, once all have run
    std::mutex error_lock;
    // The pieces are claimed, a few at a time, not dealt out in advance: a thread that the host slows down (or
    // that wakes late) takes fewer, and the others do not wait for it at the end. Four chunks per thread keep
    // the claims (one atomic add each) rare. Which thread runs a piece changes no bit (see tensor.h).
    const int chunk = std::max(1, n / (4 * threads));
    std::atomic<int> next{0};
    team().run(threads, [&](int t) {
        WorkCounters* const own = g_work;
        g_work = !caller ? nullptr : std::this_thread::get_id() == calling_thread ? caller : &counted[t];
        try {
            for (int first; (first = next.fetch_add(chunk, std::memory_order_relaxed)) < n;)
                for (int i = first; i < std::min(n, first + chunk); ++i) work(i);
        } catch (...) {  // a team thread must not let it escape (std::terminate); this share stops here
            const std::lock_guard<std::mutex> lock(error_lock);
            if (!error) error = std::current_exception();
        }
        g_work = own;
    });
    // A helper's time in gemm is not added: it ran beside the caller's, so the caller's own time in gemm,
    // out of the wall time, is already the share of the time spent in products (adding both would count two
    // cores' seconds against one clock).
    if (caller)
        for (const WorkCounters& c : counted) caller->flops += c.flops, caller->bytes += c.bytes;
    if (error) std::rethrow_exception(error);
}

void parallel_ranges(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& work) {
    const int64_t ranges = std::min<int64_t>(n / std::max<int64_t>(grain, 1), blas_threads());
    if (ranges <= 1) {
        if (n > 0) work(0, n);
        return;
    }
    parallel_for(static_cast<int>(ranges), [&](int r) { work(n * r / ranges, n * (r + 1) / ranges); });
}

void gemm_naive(bool trans_a, bool trans_b, int M, int N, int K, Real alpha, const Real* A, int lda, const Real* B,
                int ldb, Real beta, Real* C, int ldc) {
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double acc = 0;  // C[i][j] = Σₖ op(A)[i][k] · op(B)[k][j]
            for (int k = 0; k < K; ++k) {
                const Real a = trans_a ? A[k * lda + i] : A[i * lda + k];
                const Real b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += static_cast<double>(a) * b;
            }
            C[i * ldc + j] = static_cast<Real>(alpha * acc + (beta == 0 ? 0 : beta * C[i * ldc + j]));
        }
}

}  // namespace s2a

// tests/util.h — small helpers the test files share: the message an error carries, tensors compared
// element by element, a layer's parameters drawn at random, a gradient check's verdict, and a scratch folder
// that cleans up after itself.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>  // getpid

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "autodiff/gradcheck.h"
#include "autodiff/tensor.h"
#include "nn/module.h"

namespace s2a {

// ---------------------------------------------------------------- errors and text

// The message of the exception `f` throws, or "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

// The message of the ShapeError `f` throws, or "" if it throws none. Any other exception is not caught:
// it fails the test, since a shape check that throws the wrong type is a bug too.
inline std::string shape_error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ShapeError& e) {
        return e.what();
    }
    return "";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---------------------------------------------------------------- tensors

// max |aᵢ - bᵢ| over every element, in double whatever Real is; the shapes must be equal.
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape == b.shape);
    double m = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
    return m;
}

// No NaN and no ±∞ anywhere in t.
inline bool all_finite(const Tensor& t) {
    return std::all_of(t.data.begin(), t.data.end(), [](Real v) { return std::isfinite(v); });
}

// ---------------------------------------------------------------- layers and gradients

// Overwrites every parameter of m with N(0, std²) values: biases not 0, gains not 1 and no two gates alike,
// so a wrong path through any parameter changes the output and shows.
inline void randomize(const Module& m, Rng& rng, Real std = 1) {
    for (auto& [name, p] : m.named_parameters()) p.value() = randn(p.shape(), rng, std);
}

// Fails the test, printing the per-input report, unless the gradient check `report` of `what` passed.
inline void check_report(const GradcheckReport& report, const std::string& what) {
    CHECK_MESSAGE(report.pass, fmt::format("gradcheck of {} failed:\n{}", what, report.str()));
}

// ---------------------------------------------------------------- files

// A fresh, empty folder in the system's temporary directory, removed with all it holds when the TempDir
// goes out of scope. Its name, s2a_test_<name>_<process id>, keeps two test binaries running at once
// (make -j test asan) out of each other's files; a leftover of a crashed run with the same id is removed first.
class TempDir {
  public:
    explicit TempDir(const std::string& name)
        : dir_(std::filesystem::temp_directory_path() / ("s2a_test_" + name + "_" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    ~TempDir() {
        std::error_code ignored;  // a failed cleanup must not fail the test
        std::filesystem::remove_all(dir_, ignored);
    }
    TempDir(const TempDir&) = delete;  // one owner removes the folder, once
    TempDir& operator=(const TempDir&) = delete;

    // The folder itself.
    std::string path() const { return dir_.string(); }
    // The path of `name` inside the folder (nothing is created).
    std::string file(const std::string& name) const { return (dir_ / name).string(); }
    // Writes `content`, byte for byte, to the file `name` inside the folder and returns its path.
    std::string write(const std::string& name, const std::string& content) const {
        const std::string p = file(name);
        std::ofstream out(p, std::ios::binary);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        REQUIRE(out);
        return p;
    }

  private:
    std::filesystem::path dir_;
};

}  // namespace s2a

// tests/util.h — small helpers the test files share: the message an error carries, and tensors compared
// element by element.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <string>

#include "autodiff/tensor.h"

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

}  // namespace s2a

// fuzz/fuzz_points.cpp — chapter 0's point reader (data/points.h) on arbitrary bytes.
//
// Properties of an accepted file: N points of 2 finite coordinates, N labels each 0 or 1.
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "data/points.h"
#include "fuzz/fuzz.h"

using namespace s2a;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    Tensor points;       // points: (N, F)
    IndexTensor labels;  // labels: (N)
    try {
        read_points(in, "fuzz.csv", points, labels);
    } catch (const std::runtime_error&) {
        return 0;
    }
    const int n = static_cast<int>(labels.numel());
    fuzz::fuzz_require(n > 0 && points.shape == Shape{n, 2} && labels.shape == Shape{n}, "shapes (N, 2) and (N)");
    for (int64_t i = 0; i < points.numel(); ++i) fuzz::fuzz_require(std::isfinite(points[i]), "finite coordinates");
    for (int i = 0; i < n; ++i) fuzz::fuzz_require(labels[i] == 0 || labels[i] == 1, "labels 0 or 1");
    return 0;
}

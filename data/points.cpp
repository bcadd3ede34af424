// data/points.cpp — reading chapter 0's "x,y,label" lines, each field checked.
#include "data/points.h"

#include "data/textfile.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <vector>

namespace s2a {

namespace {

// A bad line for an error message: its first 60 characters at most, since a line may be megabytes long.
std::string excerpt(const std::string& line) {
    if (line.size() <= 60) return line;
    size_t cut = 60;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    return line.substr(0, cut) + "…";
}

// `text` without the spaces and tabs around it.
std::string trimmed(const std::string& text) {
    const size_t begin = text.find_first_not_of(" \t");
    return begin == std::string::npos ? "" : text.substr(begin, text.find_last_not_of(" \t") + 1 - begin);
}

// `text` as a number, if all of it is one that Real holds: not "nan", "1e400" or "3x".
bool read_number(const std::string& text, double& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() &&
           std::fabs(value) <= std::numeric_limits<Real>::max();  // false for nan and ±inf too
}

}  // namespace

void read_points(const std::string& path, Tensor& points, IndexTensor& labels) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(fmt::format("{}: cannot open the file", path));
    std::error_code error;  // the size is checked before anything is read (a FIFO or a device has none: skipped)
    const uintmax_t bytes = std::filesystem::file_size(path, error);
    if (!error && bytes > static_cast<uintmax_t>(kMaxTextFileBytes))
        throw std::runtime_error(fmt::format("{}: the file has {} bytes; a points file may have at most {} (the limit of data files)",
                                             path, bytes, kMaxTextFileBytes));
    read_points(in, path, points, labels);
}

void read_points(std::istream& in, const std::string& name, Tensor& points, IndexTensor& labels) {
    std::vector<Real> xy;  // xy: (N, F), row-major
    std::vector<int> ys;   // ys: (N)
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // a file written on Windows
        if (line.empty()) continue;
        if (line.size() > static_cast<size_t>(kMaxLineBytes))
            throw std::runtime_error(fmt::format("{}:{}: the line has {} bytes; a line may have at most {}", name, number,
                                                 line.size(), kMaxLineBytes));
        const auto bad = [&](const std::string& what) {
            return std::runtime_error(fmt::format("{}:{}: {}, got '{}'", name, number, what, excerpt(line)));
        };
        if (std::count(line.begin(), line.end(), ',') != 2) throw bad("expected 'x,y,label'");
        const size_t first = line.find(',');
        const size_t second = line.find(',', first + 1);
        double x, y;
        if (!read_number(trimmed(line.substr(0, first)), x) || !read_number(trimmed(line.substr(first + 1, second - first - 1)), y))
            throw bad(fmt::format("x and y must be finite numbers within ±{:.3g}", std::numeric_limits<Real>::max()));
        const std::string label = trimmed(line.substr(second + 1));
        if (label != "0" && label != "1") throw bad("the label must be 0 or 1");
        xy.insert(xy.end(), {static_cast<Real>(x), static_cast<Real>(y)});
        ys.push_back(label == "1");
    }
    if (ys.empty()) throw std::runtime_error(fmt::format("{}: no points in the file", name));
    const int n = static_cast<int>(ys.size());
    points = Tensor::from(Shape{n, 2}, xy);
    labels = IndexTensor::from(Shape{n}, std::move(ys));
}

}  // namespace s2a

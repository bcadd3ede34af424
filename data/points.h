// data/points.h — chapter 0's data file: labelled 2-D points, one "x,y,label" a line.
//
//     0.25,-1.5,0
//      1e-3 , 2.5E+0 , 1      spaces around a field are fine
//
// x and y are decimal numbers that Real holds (not nan, inf, 1e400, 1e39 in a float build, or "3x"); the label is
// 0 or 1. Empty lines are skipped anywhere, and a line may end with \r\n. The first bad line stops reading
// with "FILE:LINE: what was wrong, got 'the line'", the line shortened to its first 60 characters.
//
// Dimensions: N points, F = 2 features.
//
// Limits: the same as the textbook files (data/textfile.h): a file of at most kMaxTextFileBytes (8 MiB, checked
// before reading) and lines of at most kMaxLineBytes (4,096 bytes).
// Memory, as a function of the input: a file of n bytes holds at most n / 6 points (the shortest line,
// "0,0,0\n", has six bytes), and each point takes 2 Reals and an int, held at most twice while the vectors
// grow and once more in the tensors. Reading keeps one line at a time (a copy or two of it are made while it
// is split). So read_points allocates below 11 × n bytes in a double build (below 7 × n in float): under
// 90 MiB at the file limit (measured when there was no limit: 490 MB for 64 MiB of "0,0,0" lines).
#pragma once

#include <istream>
#include <string>

#include "autodiff/tensor.h"

namespace s2a {

// Reads the points of `path`: points (N, F) and labels (N) of 0 and 1. Throws std::runtime_error
// "path: cannot open the file", "path:LINE: what, got '…'", or "path: no points in the file".
void read_points(const std::string& path, Tensor& points, IndexTensor& labels);

// The same from a stream (a string in memory, for tests and the fuzzer); `name` stands for the path in
// the messages.
void read_points(std::istream& in, const std::string& name, Tensor& points, IndexTensor& labels);

}  // namespace s2a

// io/checkpoint.h — a module's parameters as a whole: save them, load them back, print a table of them.
//
// A checkpoint is a .npz archive (io/npz.h) with one array per parameter, named by its path in the module
// tree ("encoder.embed.W"), so it can be inspected from Python with numpy.load. Only parameter values are
// stored: not gradients, not optimizer state, not the architecture. The code that builds the model is the
// architecture, and load() checks that the file fits it exactly.
#pragma once

#include <string>

#include "nn/module.h"

namespace s2a {

// Writes every named parameter of m to path (atomically: a failed save leaves an older file intact).
void save(const Module& m, const std::string& path);

// Reads path into m's parameters. The file must hold exactly m's parameters: every one of them, each with
// the same shape and only finite values, and nothing else. Otherwise throws std::runtime_error naming the
// path, the parameter and both shapes (or the first NaN or infinity and where it is), and leaves m untouched:
// the whole file is read and checked before any value is copied. The file's size is limited (io/npz.h).
// Gradients are left as they are.
// Memory: load takes what load_npz takes for the file and no more (io/npz.h: below 5 × the file's size; a
// file past 1 GiB is refused unread); the arrays that fit then become the parameters' values without a copy.
void load(Module& m, const std::string& path);

// A table of m's parameters, one line each (name, shape, number of values), and the total:
//     parameter   shape     count
//     W           (3, 4)       12
//     b           (4)           4
//     total                    16
std::string summary(const Module& m);

}  // namespace s2a

// io/checkpoint.h — a module's parameters as a whole: save them, load them back, print a table of them.
//
// A checkpoint is a .npz archive (io/npz.h) with one array per parameter, named by its path in the module
// tree ("encoder.embed.W"), so it can be inspected from Python with numpy.load. Only parameter values are
// stored: not gradients, not optimizer state, not the architecture. The code that builds the model is the
// architecture, and load() checks that the file fits it exactly.
//
// A resumable checkpoint (save_resumable) holds, besides the parameters under the same names, all that a
// run needs to continue exactly where it stopped, as more arrays of the same archive:
//     optimizer.steps                the optimizer's step count (which also places a learning-rate schedule)
//     optimizer.m.encoder.embed.W    its running state, one array per kind and parameter (Adam: m, v)
//     optimizer.t                    its counters, one per parameter in the model's order (Adam: t)
//     random.decoder.layer0.dropout  the state of every random stream of the model (dropout masks)
//     run.*                          whatever the training loop keeps: epoch, batch, data order (its caller)
// Whole numbers (step counts, random states) are stored as four 16-bit pieces each, low first, in a (n, 4)
// array: exact in float and double alike, and still readable from Python.
//
// A model file (models/model_file.h) holds, besides the parameters, how to rebuild the model and question it:
// arrays named config.*, vocab.* and task.* (describes_model). load() reads its parameters and leaves those be.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "nn/optim.h"

namespace s2a {

// Named arrays, as a resumable checkpoint's run.* part holds them (names without "run.").
using NamedArrays = std::map<std::string, Tensor>;

// Writes every named parameter of m to path (atomically: a failed save leaves an older file intact), and the
// arrays of `description`, whose names must each satisfy describes_model.
void save(const Module& m, const std::string& path, const NamedArrays& description = {});

// True for the names of the arrays that describe a model rather than hold its values: config.*, vocab.*, task.*.
bool describes_model(const std::string& name);

// Reads path into m's parameters. The file must hold exactly m's parameters: every one of them, each with
// the same shape and only finite values, and nothing else. Otherwise throws std::runtime_error naming the
// path, the parameter and both shapes (or the first NaN or infinity and where it is), and leaves m untouched:
// the whole file is read and checked before any value is copied. The file's size is limited (io/npz.h).
// Gradients are left as they are.
// Memory: load takes what load_npz takes for the file and no more (io/npz.h: below 5 × the file's size; a
// file past 1 GiB is refused unread); the arrays that fit then become the parameters' values without a copy.
// A model file's description arrays (describes_model) are not parameters: load() passes over them.
void load(Module& m, const std::string& path);

// load() in two halves, for a caller that reads the file's other arrays too (models/model_file.h):
// read_checkpoint gives every array of the file by name (a name twice is refused); take_parameters moves m's
// parameters out of `arrays`, checked as load() checks them, into m, and leaves the other arrays there.
NamedArrays read_checkpoint(const std::string& path);
void take_parameters(Module& m, NamedArrays& arrays, const std::string& path);

// Whole numbers as an (n, 4) array of 16-bit pieces, and back. from_counts throws std::runtime_error naming
// `what` unless the array is (n, 4) of whole numbers from 0 to 65535.
Tensor to_counts(const std::vector<uint64_t>& values);
std::vector<uint64_t> from_counts(const Tensor& t, const std::string& what);

// Writes m's parameters, opt's state, m's random streams and `run` (stored as "run.NAME") to path, atomically
// like save(). opt must hold m's parameters in m's order.
void save_resumable(const Module& m, const Optimizer& opt, const NamedArrays& run, const std::string& path);

// Reads a resumable checkpoint into m, opt and m's random streams and returns its run.* arrays. Everything is
// checked before anything is copied, as load() does, and more: the optimizer's arrays (names, shapes, finite),
// the random states, and `check_run`, given the run.* arrays, which throws if they do not fit the caller's run.
// An error names the path and the array; m, opt and the random streams are then left untouched.
NamedArrays load_resumable(Module& m, Optimizer& opt, const std::string& path,
                           const std::function<void(const NamedArrays& run)>& check_run);

// A table of m's parameters, one line each (name, shape, number of values), and the total:
//     parameter   shape     count
//     W           (3, 4)       12
//     b           (4)           4
//     total                    16
std::string summary(const Module& m);

}  // namespace s2a

// io/npz.h — save and load named tensors as a NumPy .npz archive.
//
// A .npz file is an ordinary ZIP archive holding one .npy file per array. Writing that format (rather
// than a private one) means a learner can open a checkpoint from Python and look at the weights:
//
//     w = numpy.load("model.npz")
//     w["encoder.W"].shape
//
// Only the simple, common case is handled, and everything else is refused with a clear message:
//   - members are stored, not compressed (np.savez, not np.savez_compressed);
//   - arrays are little-endian float32 ('<f4') or float64 ('<f8'), with 0 to 4 dimensions;
//   - archives are below 4 GiB and 65535 members, so the zip64 extension is never needed.
// Arrays are converted to Real on loading, so a float64 array from NumPy loads into a float build.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.h"

namespace s2a {

// Writes the tensors to `path` as NAME.npy members ('<f4' when Real is float, '<f8' when double).
// The archive is first written to `path + ".tmp"` and then renamed over `path`, so a save that fails
// half way (disk full, killed process) leaves the previous checkpoint untouched.
// Throws std::runtime_error("PATH: what went wrong") on any failure.
void save_npz(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& arrays);

// Reads every array of an archive written by save_npz or by np.savez, in archive order; each name is
// the member name without its ".npy" suffix. The CRC-32 of every member is checked.
// Throws std::runtime_error("PATH: what is wrong") for a missing, truncated, corrupt or unsupported file.
std::vector<std::pair<std::string, Tensor>> load_npz(const std::string& path);

}  // namespace s2a

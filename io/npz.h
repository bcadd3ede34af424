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
//   - archives are at most kMaxNpzBytes (1 GiB) and below 65535 members, so zip64 is never needed.
// Arrays are converted to Real on loading, so a float64 array from NumPy loads into a float build.
//
// The memory load_npz takes is bounded, whatever the file holds. It refuses a file larger than kMaxNpzBytes
// before reading any of it (a pipe: as soon as it passes the limit), and members that share bytes: a
// crafted directory can list one member thousands of times under different names, each decoded anew. The
// members' sizes then add up to at most the file size, and an array takes at most twice its member's bytes
// (a float32 value becomes a double). So load_npz holds at most the file itself and 2 × its size in arrays,
// plus a second copy of the one array being decoded: below 5 × the file size, 5 GiB at the very most, and
// about 3 × the size of a checkpoint of many arrays.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.h"

namespace s2a {

constexpr uint64_t kMaxNpzBytes = uint64_t(1) << 30;  // the largest archive save_npz writes and load_npz reads

// Writes the tensors to `path` as NAME.npy members ('<f4' when Real is float, '<f8' when double).
// The archive is first written to `path + ".tmp"` and then renamed over `path`, so a save that fails
// half way (disk full, killed process) leaves the previous checkpoint untouched.
// Throws std::runtime_error("PATH: what went wrong") on any failure.
void save_npz(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& arrays);

// Reads every array of an archive written by save_npz or by np.savez, in archive order; each name is
// the member name without its ".npy" suffix. The CRC-32 of every member is checked.
// Throws std::runtime_error("PATH: what is wrong") for a missing, truncated, corrupt, unsupported or too
// large file, naming the member and the limit where there is one.
std::vector<std::pair<std::string, Tensor>> load_npz(const std::string& path);
// The same from the archive's bytes in memory (for tests and the fuzzer); `path` names it in the messages.
std::vector<std::pair<std::string, Tensor>> load_npz(const std::vector<uint8_t>& bytes, const std::string& path);

}  // namespace s2a

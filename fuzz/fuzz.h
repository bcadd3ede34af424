// fuzz/fuzz.h — what the libFuzzer targets share: the entry point's signature, a property check that stops
// the fuzzer, and a file in memory for the loaders that only take a path.
//
// Each target feeds its input to one loader. Refusing the input is fine, with the error type the loader
// documents (std::runtime_error, which the target catches); anything else stops the fuzzer and is a bug:
// a crash, a sanitizer report, a leak, another exception type, an allocation past -malloc_limit_mb, a
// run past -timeout, or a property of an accepted input broken (fuzz_require).
#pragma once

#include <sys/mman.h>  // memfd_create
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

// libFuzzer calls this once per input.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace s2a::fuzz {

// A property every accepted input must have; stops the fuzzer (and saves the input) when it does not hold.
inline void fuzz_require(bool holds, const char* property) {
    if (holds) return;
    std::fprintf(stderr, "fuzz: property broken: %s\n", property);
    std::abort();
}

// A file that lives in memory (memfd_create): a path to hand a loader that reads files, without touching
// the disk. rewrite() replaces its contents; path() opens it anew from offset 0, as any file would be.
class MemoryFile {
  public:
    MemoryFile() : fd_(memfd_create("s2a_fuzz", 0)) {
        if (fd_ < 0) {
            std::perror("fuzz: memfd_create");
            std::abort();
        }
    }
    ~MemoryFile() { close(fd_); }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;

    std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

    void rewrite(const uint8_t* data, size_t size) {
        if (ftruncate(fd_, 0) != 0 || pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) {
            std::perror("fuzz: writing the memory file");
            std::abort();
        }
    }

  private:
    int fd_;
};

}  // namespace s2a::fuzz

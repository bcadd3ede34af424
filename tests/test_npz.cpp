// tests/test_npz.cpp — .npz checkpoints: round trips, archives written by NumPy, atomic saves, bad files.
//
// None of this needs Python: the NumPy-written archives are pasted below as bytes. They were made with
//     np.savez(f, a=np.arange(6, dtype='<f4').reshape(2, 3))             (kNumpySavez)
//     np.savez_compressed(f, a=np.arange(6, dtype='<f4').reshape(2, 3))  (kNumpySavezCompressed)
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/npz.h"
#include "tests/util.h"

using namespace s2a;
namespace fs = std::filesystem;

namespace {

const unsigned char kNumpySavez[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f, 0xe9,
    0x00, 0x2a, 0x98, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x61, 0x2e,
    0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76,
    0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27,
    0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72,
    0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65,
    0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00,
    0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x50,
    0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f,
    0xe9, 0x00, 0x2a, 0x98, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x61, 0x2e, 0x6e,
    0x70, 0x79, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x33, 0x00,
    0x00, 0x00, 0xcf, 0x00, 0x00, 0x00, 0x00, 0x00,
};

const unsigned char kNumpySavezCompressed[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f, 0xe9,
    0x00, 0x2a, 0x55, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x61, 0x2e,
    0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x55,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50,
    0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x66, 0xa2,
    0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a,
    0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a,
    0x46, 0x3a, 0x0a, 0xc6, 0x9a, 0x3a, 0x0a, 0xb5, 0x0a, 0x64, 0x03, 0x2e, 0x06, 0x30, 0x68, 0xb0,
    0x07, 0x12, 0x0e, 0x40, 0x04, 0xc4, 0x0d, 0x40, 0xbc, 0xc0, 0x01, 0x00, 0x50, 0x4b, 0x01, 0x02,
    0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4f, 0xe9, 0x00, 0x2a,
    0x55, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x61, 0x2e, 0x6e, 0x70, 0x79, 0x50,
    0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x33, 0x00, 0x00, 0x00, 0x8c,
    0x00, 0x00, 0x00, 0x00, 0x00,
};

std::vector<unsigned char> read_bytes(const std::string& path) {
    std::vector<unsigned char> bytes;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f != nullptr);
    int c;
    while ((c = std::fgetc(f)) != EOF) bytes.push_back(static_cast<unsigned char>(c));
    std::fclose(f);
    return bytes;
}

void write_bytes(const std::string& path, const unsigned char* bytes, size_t n) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    if (n > 0) REQUIRE(std::fwrite(bytes, 1, n, f) == n);
    std::fclose(f);
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    write_bytes(path, bytes.data(), bytes.size());
}

// The message load_npz throws for `path`, or "" if it loads.
std::string load_error(const std::string& path) { return error_of([&] { load_npz(path); }); }

// The offset of the first .npy member's values inside a saved archive: after "\x93NUMPY", the two
// version bytes, the 2-byte header length and the header.
size_t first_values_offset(const std::vector<unsigned char>& zip) {
    const unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    const auto it = std::search(zip.begin(), zip.end(), std::begin(magic), std::end(magic));
    REQUIRE(it != zip.end());
    const size_t npy = static_cast<size_t>(it - zip.begin());
    return npy + 10 + (zip[npy + 8] | zip[npy + 9] << 8);
}

}  // namespace

TEST_CASE("npz: round trip keeps names, order, shapes and every bit") {
    TempDir dir("npz_roundtrip");
    Rng rng(3);
    const Tensor scalar = Tensor::scalar(Real(-2.5));
    const Tensor vector = randn(Shape{7}, rng);
    const Tensor matrix = randn(Shape{3, 5}, rng);
    const Tensor cube = randn(Shape{2, 3, 4}, rng);
    const Tensor four = randn(Shape{2, 1, 3, 2}, rng);
    const Tensor empty(Shape{0, 3});
    const std::vector<std::pair<std::string, const Tensor*>> arrays = {
        {"scalar", &scalar}, {"embed", &vector},      {"encoder/W", &matrix},
        {"cube", &cube},     {"attn.heads", &four},   {"empty", &empty}};
    const std::string path = dir.file("model.npz");
    save_npz(path, arrays);

    const auto loaded = load_npz(path);
    REQUIRE(loaded.size() == arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
        CAPTURE(arrays[i].first);
        CHECK(loaded[i].first == arrays[i].first);
        CHECK(loaded[i].second.shape == arrays[i].second->shape);
        CHECK(loaded[i].second.data == arrays[i].second->data);
    }

    // Saving the same tensors again gives the same bytes (fixed timestamps, no randomness).
    const std::string again = dir.file("again.npz");
    save_npz(again, arrays);
    CHECK(read_bytes(path) == read_bytes(again));

    // An archive with no arrays is valid too.
    save_npz(dir.file("none.npz"), {});
    CHECK(load_npz(dir.file("none.npz")).empty());
}

TEST_CASE("npz: loads an archive written by numpy.savez") {
    TempDir dir("npz_numpy");
    const std::string path = dir.file("numpy.npz");
    write_bytes(path, kNumpySavez, sizeof(kNumpySavez));
    const auto loaded = load_npz(path);
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].first == "a");
    CHECK(loaded[0].second.shape == Shape{2, 3});
    for (int i = 0; i < 6; ++i) CHECK(loaded[0].second[i] == Real(i));

    const std::string compressed = dir.file("compressed.npz");
    write_bytes(compressed, kNumpySavezCompressed, sizeof(kNumpySavezCompressed));
    const std::string message = load_error(compressed);
    CHECK(contains(message, compressed));
    CHECK(contains(message, "member 'a.npy'"));
    CHECK(contains(message, "np.savez_compressed"));
}

TEST_CASE("npz: a failed save leaves the previous checkpoint intact and no temporary file") {
    TempDir dir("npz_atomic");
    const std::string path = dir.file("model.npz");
    const Tensor first = Tensor::from(Shape{2}, {1, 2});
    const Tensor second = Tensor::from(Shape{3}, {7, 8, 9});
    save_npz(path, {{"w", &first}});
    CHECK_FALSE(fs::exists(path + ".tmp"));

    SUBCASE("the temporary file cannot be created") {
        fs::create_directory(path + ".tmp");  // fopen of a directory for writing fails
        CHECK_THROWS_AS(save_npz(path, {{"w", &second}}), std::runtime_error);
    }
    SUBCASE("writing fails half way") {
        // A .tmp that points at /dev/full opens fine, but every write fails with "no space left".
        if (fs::exists("/dev/full")) {
            fs::create_symlink("/dev/full", path + ".tmp");
            try {
                save_npz(path, {{"w", &second}});
                FAIL("save_npz should have thrown");
            } catch (const std::runtime_error& e) {
                CHECK(contains(e.what(), path));
            }
            CHECK_FALSE(fs::exists(fs::symlink_status(path + ".tmp")));  // the temporary file was removed
        }
    }
    SUBCASE("invalid arrays are refused before anything is written") {
        CHECK_THROWS_AS(save_npz(path, {{"w", &second}, {"w", &first}}), std::runtime_error);  // name twice
        CHECK_THROWS_AS(save_npz(path, {{"", &second}}), std::runtime_error);
        CHECK_THROWS_AS(save_npz(path, {{"w", nullptr}}), std::runtime_error);
        CHECK_FALSE(fs::exists(path + ".tmp"));
    }
    const auto loaded = load_npz(path);
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].second.data == first.data);

    // A directory that does not exist: an error naming the path, and nothing created.
    const std::string nowhere = dir.file("no/such/dir/model.npz");
    try {
        save_npz(nowhere, {{"w", &first}});
        FAIL("save_npz should have thrown");
    } catch (const std::runtime_error& e) {
        CHECK(contains(e.what(), nowhere));
    }
    CHECK_FALSE(fs::exists(dir.file("no")));
}

TEST_CASE("npz: bad files throw errors that name the file") {
    TempDir dir("npz_corrupt");
    const std::string good = dir.file("good.npz");
    Rng rng(5);
    const Tensor w = randn(Shape{4, 4}, rng);
    const Tensor b = randn(Shape{4}, rng);
    save_npz(good, {{"W", &w}, {"b", &b}});
    const std::vector<unsigned char> bytes = read_bytes(good);
    const std::string bad = dir.file("bad.npz");

    SUBCASE("missing file") {
        const std::string missing = dir.file("missing.npz");
        const std::string message = load_error(missing);
        CHECK(contains(message, missing));
        CHECK(contains(message, "cannot open"));
    }
    SUBCASE("empty file") {
        write_bytes(bad, nullptr, 0);
        const std::string message = load_error(bad);
        CHECK(contains(message, bad));
        CHECK(contains(message, "empty"));
    }
    SUBCASE("truncated file, cut at every length") {
        for (size_t n = 2; n < bytes.size(); ++n) {  // from "PK" on: a lone "P" is just "not a zip archive"
            CAPTURE(n);
            write_bytes(bad, bytes.data(), n);
            const std::string message = load_error(bad);
            CHECK(contains(message, bad));
            CHECK(contains(message, "truncated"));
        }
    }
    SUBCASE("one flipped bit in the values fails the CRC check") {
        std::vector<unsigned char> flipped = bytes;
        flipped[first_values_offset(bytes) + 5] ^= 0x10;
        write_bytes(bad, flipped);
        const std::string message = load_error(bad);
        CHECK(contains(message, bad));
        CHECK(contains(message, "member 'W.npy'"));
        CHECK(contains(message, "CRC"));
    }
    SUBCASE("every single-byte change either loads or throws, never crashes") {
        for (size_t i = 0; i < bytes.size(); ++i) {
            std::vector<unsigned char> changed = bytes;
            changed[i] ^= 0xFF;
            write_bytes(bad, changed);
            const std::string message = load_error(bad);
            if (!message.empty()) CHECK(contains(message, bad));
        }
    }
    SUBCASE("random garbage") {
        Rng garbage(11);
        for (int trial = 0; trial < 50; ++trial) {
            std::vector<unsigned char> noise(1 + garbage.randint(400));
            for (unsigned char& c : noise) c = static_cast<unsigned char>(garbage.randint(256));
            if (trial % 2 == 0) noise[0] = 'P';  // sometimes looks like the start of a zip archive
            write_bytes(bad, noise);
            const std::string message = load_error(bad);
            CHECK(contains(message, bad));
        }
    }
}

TEST_CASE("npz: a directory listing one member 60,000 times is refused before anything is decoded") {
    TempDir dir("npz_repeated");
    const std::string path = dir.file("repeated.npz");
    Rng rng(7);
    const Tensor w = randn(Shape{64}, rng);
    save_npz(path, {{"w00000", &w}});
    const std::vector<unsigned char> bytes = read_bytes(path);

    // The archive is [member][one directory entry][end record]. Keep the member, then list it 60,000 times
    // under the names w00000.npy .. w59999.npy, every entry pointing at the same local header.
    const size_t end = bytes.size() - 22;
    const size_t directory_offset =
        bytes[end + 16] | bytes[end + 17] << 8 | bytes[end + 18] << 16 | uint32_t(bytes[end + 19]) << 24;
    const std::vector<unsigned char> entry(bytes.begin() + directory_offset, bytes.begin() + end);
    REQUIRE(entry.size() == 46 + std::string("w00000.npy").size());
    const int copies = 60000;
    std::vector<unsigned char> crafted(bytes.begin(), bytes.begin() + directory_offset);
    for (int i = 0; i < copies; ++i) {
        const std::string digits = fmt::format("{:05}", i);
        crafted.insert(crafted.end(), entry.begin(), entry.end());
        std::copy(digits.begin(), digits.end(), crafted.end() - 9);  // the name's digits, before ".npy"
    }
    std::vector<unsigned char> end_record(bytes.begin() + end, bytes.end());
    const uint32_t directory_size = copies * entry.size();
    for (size_t at : {8, 10}) {  // members on this disk, members in total
        end_record[at] = copies & 0xFF;
        end_record[at + 1] = copies >> 8;
    }
    for (int k = 0; k < 4; ++k) end_record[12 + k] = static_cast<unsigned char>(directory_size >> (8 * k));
    crafted.insert(crafted.end(), end_record.begin(), end_record.end());
    CHECK(crafted.size() > 3'000'000);
    write_bytes(path, crafted);

    const std::string message = load_error(path);
    INFO(message);
    CHECK(contains(message, path + ": member 'w00001.npy': shares its bytes with member 'w00000.npy'"));
}

TEST_CASE("npz: an archive past the size limit is refused before it is read") {
    TempDir dir("npz_large");
    const std::string path = dir.file("large.npz");
    const Tensor w = Tensor::from(Shape{2}, {1, 2});
    save_npz(path, {{"w", &w}});
    fs::resize_file(path, kMaxNpzBytes + 1);  // sparse: nothing is written, and nothing should be read
    const std::string message = load_error(path);
    CHECK(contains(message, path + ": 1073741825 bytes or more, past the limit of an archive"));
    CHECK(contains(message, "(1073741824 bytes, 1 GiB)"));
}

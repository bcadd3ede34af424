// io/npz.cpp — the .npz writer and reader: a minimal ZIP container around minimal .npy files.
//
// A stored (uncompressed) ZIP archive, every integer little-endian:
//
//   [local header 1][name 1][data 1] ... [local header n][name n][data n]
//   [central directory entry 1] ... [central directory entry n]
//   [end of central directory record]
//
// The central directory at the back is the table of contents: for each member it repeats the name, the
// sizes and the CRC-32, and gives the offset of the member's local header. A reader therefore starts
// at the end of the file: it finds the end record, walks the central directory, and only then jumps to
// each member. (NumPy's local headers carry an extra field our reader simply skips; the sizes it uses
// always come from the central directory.)
//
// A .npy file is a preamble, a Python dict literal describing the array, then the raw values:
//
//   "\x93NUMPY" major minor header_len   (header_len is a u16 in version 1.0, a u32 in 2.0 and 3.0)
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }      spaces, then '\n'
//   the values, row-major (column-major when fortran_order is True)
//
// Reading never trusts a length or an offset from the file: every read goes through Reader, which
// checks it against the end of the bytes it may look at, so garbage input gives an error, not a crash.
#include "io/npz.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <sys/stat.h>  // fstat
#include <unistd.h>    // fsync

namespace s2a {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw std::runtime_error(where + ": " + what);
}

// ---------------------------------------------------------------------------------------------------
// CRC-32 (the ZIP / PNG / Ethernet checksum): polynomial 0xEDB88320 in its bit-reversed form, one table
// lookup per byte. table[b] is the CRC contribution of byte b, computed once by eight shift-and-xor steps.

uint32_t crc32(const uint8_t* data, size_t n) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t b = 0; b < 256; ++b) {
            uint32_t c = b;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[b] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

// ---------------------------------------------------------------------------------------------------
// Little-endian encoding. Bytes are assembled one at a time, so the files are the same on any machine.

void put_u16(std::vector<uint8_t>& out, uint32_t v) {
    out.push_back(static_cast<uint8_t>(v));
    out.push_back(static_cast<uint8_t>(v >> 8));
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    put_u16(out, v & 0xFFFF);
    put_u16(out, v >> 16);
}

void put_text(std::vector<uint8_t>& out, const std::string& s) { out.insert(out.end(), s.begin(), s.end()); }

void put_f32(std::vector<uint8_t>& out, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);  // the IEEE-754 bit pattern
    put_u32(out, bits);
}

void put_f64(std::vector<uint8_t>& out, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put_u32(out, static_cast<uint32_t>(bits));
    put_u32(out, static_cast<uint32_t>(bits >> 32));
}

uint32_t get_u32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

float get_f32(const uint8_t* p) {
    uint32_t bits = get_u32(p);
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
}

double get_f64(const uint8_t* p) {
    uint64_t bits = uint64_t(get_u32(p)) | uint64_t(get_u32(p + 4)) << 32;
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
}

// Reads from a range of `size` bytes, checking every read against its end. `where` starts every error
// message ("model.npz: member 'W.npy'"), so a bad length in the file reports as "...: truncated".
class Reader {
  public:
    Reader(const uint8_t* data, size_t size, std::string where)
        : data_(data), size_(size), where_(std::move(where)) {}

    size_t remaining() const { return size_ - pos_; }

    const uint8_t* take(size_t n) {
        if (n > remaining()) fail(where_, "truncated");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    void skip(size_t n) { take(n); }
    uint8_t u8() { return take(1)[0]; }
    uint16_t u16() {
        const uint8_t* p = take(2);
        return static_cast<uint16_t>(p[0] | p[1] << 8);
    }
    uint32_t u32() { return get_u32(take(4)); }
    std::string text(size_t n) { return std::string(reinterpret_cast<const char*>(take(n)), n); }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    std::string where_;
};

// ---------------------------------------------------------------------------------------------------
// ZIP constants. Only what a stored archive needs.

constexpr uint32_t kLocalSignature = 0x04034b50;         // "PK\3\4"
constexpr uint32_t kCentralSignature = 0x02014b50;       // "PK\1\2"
constexpr uint32_t kEndSignature = 0x06054b50;           // "PK\5\6"
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;  // "PK\6\7", sits just before the end record
constexpr size_t kEndRecordSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr uint32_t kVersionNeeded = 20;                   // ZIP 2.0: plenty for stored members
constexpr uint32_t kVersionMadeBy = (3 << 8) | 20;        // high byte 3 = Unix, so the mode below counts
constexpr uint32_t kUnixRegularFile = 0100644u << 16;     // -rw-r--r--, for `unzip model.npz`
constexpr uint32_t kFlagUtf8Name = 1 << 11;               // the name is UTF-8, not code page 437
constexpr uint32_t kFlagEncrypted = 1 << 0;
// Every member gets the timestamp 1980-01-01 00:00 (MS-DOS format: date = (year-1980)<<9 | month<<5 | day),
// as NumPy does, so saving the same tensors twice gives byte-identical files.
constexpr uint32_t kDosTime = 0;
constexpr uint32_t kDosDate = (0 << 9) | (1 << 5) | 1;
// A 16-bit field counts the members; past it an archive needs zip64, which we do not write. The all-ones
// value itself is taken: it means "the real count is in the zip64 record". (Offsets are 32-bit, but
// kMaxNpzBytes keeps them far below 4 GiB.)
constexpr size_t kMaxMembers = 0xFFFE;

// The fuzz build defines this macro (libFuzzer's convention, see the Makefile), never a program's build.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kFuzzing = true;
#else
constexpr bool kFuzzing = false;
#endif

// The message for an archive past kMaxNpzBytes, written or read.
std::string too_large(uint64_t bytes) {
    return fmt::format("{} bytes or more, past the limit of an archive ({} bytes, 1 GiB)", bytes, kMaxNpzBytes);
}

// The dtype this build writes: the same width as Real, so saving loses nothing.
const char* const kRealDescr = sizeof(Real) == 4 ? "<f4" : "<f8";

// ---------------------------------------------------------------------------------------------------
// Writing

// The .npy bytes of one tensor: preamble, header dict padded so the data starts on a 64-byte boundary
// (NumPy's choice: it lets readers memory-map the values aligned), then the values.
std::vector<uint8_t> encode_npy(const Tensor& t) {
    // Python's tuple syntax: (2, 3) for two dimensions, (3,) for one, () for a scalar.
    std::string dims;
    for (int i = 0; i < t.ndim(); ++i) dims += (i == 0 ? "" : ", ") + std::to_string(t.dim(i));
    if (t.ndim() == 1) dims += ",";
    std::string header =
        fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", kRealDescr, dims);
    const size_t preamble = 10;  // magic (6) + version (2) + header length (2)
    const size_t unpadded = preamble + header.size() + 1;  // + the closing '\n'
    header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";

    std::vector<uint8_t> out;
    out.reserve(preamble + header.size() + t.data.size() * sizeof(Real));
    put_text(out, "\x93NUMPY");
    out.push_back(1);  // format version 1.0
    out.push_back(0);
    put_u16(out, static_cast<uint32_t>(header.size()));
    put_text(out, header);
    for (Real v : t.data) {
        if (sizeof(Real) == 4)
            put_f32(out, static_cast<float>(v));
        else
            put_f64(out, static_cast<double>(v));
    }
    return out;
}

// What the central directory needs to remember about each member written.
struct MemberInfo {
    std::string name;  // "W.npy"
    uint32_t flags;
    uint32_t crc;
    uint32_t size;          // stored, so compressed size = uncompressed size
    uint32_t local_offset;  // where its local header starts
};

std::vector<uint8_t> encode_zip(const std::string& path,
                                const std::vector<std::pair<std::string, const Tensor*>>& arrays) {
    if (arrays.size() > kMaxMembers)
        fail(path, fmt::format("{} arrays is more than a zip archive without zip64 can hold ({})",
                               arrays.size(), kMaxMembers));
    std::vector<uint8_t> zip;
    std::vector<MemberInfo> members;
    std::set<std::string> seen;
    for (const auto& [name, tensor] : arrays) {
        if (name.empty()) fail(path, "an array has an empty name");
        if (!seen.insert(name).second) fail(path, fmt::format("array name '{}' appears twice", name));
        if (tensor == nullptr) fail(path, fmt::format("array '{}' is a null pointer", name));
        if (tensor->numel() != tensor->shape.numel())
            fail(path, fmt::format("array '{}' has {} values but its shape {} needs {}", name,
                                   tensor->numel(), tensor->shape.str(), tensor->shape.numel()));

        const std::vector<uint8_t> npy = encode_npy(*tensor);
        MemberInfo m;
        m.name = name + ".npy";
        if (m.name.size() > 0xFFFF)
            fail(path, fmt::format("array name '{}...' is too long", name.substr(0, 40)));
        if (npy.size() + zip.size() + 30 + m.name.size() > kMaxNpzBytes)
            fail(path, too_large(npy.size() + zip.size() + 30 + m.name.size()));
        m.flags = 0;
        for (unsigned char c : m.name)
            if (c >= 0x80) m.flags = kFlagUtf8Name;
        m.crc = crc32(npy.data(), npy.size());
        m.size = static_cast<uint32_t>(npy.size());
        m.local_offset = static_cast<uint32_t>(zip.size());

        // Local header: 30 bytes, then the name, then the data.
        put_u32(zip, kLocalSignature);
        put_u16(zip, kVersionNeeded);
        put_u16(zip, m.flags);
        put_u16(zip, 0);  // compression method 0: stored
        put_u16(zip, kDosTime);
        put_u16(zip, kDosDate);
        put_u32(zip, m.crc);
        put_u32(zip, m.size);  // compressed size
        put_u32(zip, m.size);  // uncompressed size
        put_u16(zip, static_cast<uint32_t>(m.name.size()));
        put_u16(zip, 0);  // extra field length
        put_text(zip, m.name);
        zip.insert(zip.end(), npy.begin(), npy.end());
        members.push_back(m);
    }

    // Central directory: 46 bytes per member plus its name, then the 22-byte end record.
    const size_t directory_offset = zip.size();
    for (const MemberInfo& m : members) {
        put_u32(zip, kCentralSignature);
        put_u16(zip, kVersionMadeBy);
        put_u16(zip, kVersionNeeded);
        put_u16(zip, m.flags);
        put_u16(zip, 0);  // stored
        put_u16(zip, kDosTime);
        put_u16(zip, kDosDate);
        put_u32(zip, m.crc);
        put_u32(zip, m.size);
        put_u32(zip, m.size);
        put_u16(zip, static_cast<uint32_t>(m.name.size()));
        put_u16(zip, 0);  // extra field length
        put_u16(zip, 0);  // comment length
        put_u16(zip, 0);  // disk number where the member starts
        put_u16(zip, 0);  // internal attributes
        put_u32(zip, kUnixRegularFile);  // external attributes
        put_u32(zip, m.local_offset);
        put_text(zip, m.name);
    }
    const size_t directory_size = zip.size() - directory_offset;
    if (zip.size() + kEndRecordSize > kMaxNpzBytes) fail(path, too_large(zip.size() + kEndRecordSize));

    put_u32(zip, kEndSignature);
    put_u16(zip, 0);  // this disk's number
    put_u16(zip, 0);  // disk where the central directory starts
    put_u16(zip, static_cast<uint32_t>(members.size()));  // members on this disk
    put_u16(zip, static_cast<uint32_t>(members.size()));  // members in total
    put_u32(zip, static_cast<uint32_t>(directory_size));
    put_u32(zip, static_cast<uint32_t>(directory_offset));
    put_u16(zip, 0);  // archive comment length
    return zip;
}

// Writes `bytes` to path + ".tmp", flushes it to the disk, then renames it over `path`. rename() replaces
// the old file in one step, so at every moment `path` is either the complete old file or the complete new
// one. On failure the temporary file is removed and `path` is left as it was.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) fail(path, fmt::format("cannot open '{}' for writing ({})", tmp, std::strerror(errno)));

    int error = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fflush(f) != 0 ||
        fsync(fileno(f)) != 0)  // without fsync a power cut after the rename could leave an empty file
        error = errno != 0 ? errno : EIO;
    if (std::fclose(f) != 0 && error == 0) error = errno != 0 ? errno : EIO;
    if (error != 0) {
        std::remove(tmp.c_str());
        fail(path, fmt::format("writing '{}' failed ({})", tmp, std::strerror(error)));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = errno;
        std::remove(tmp.c_str());
        fail(path, fmt::format("cannot rename '{}' to it ({})", tmp, std::strerror(error)));
    }
}

// ---------------------------------------------------------------------------------------------------
// Reading

std::vector<uint8_t> read_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) fail(path, fmt::format("cannot open for reading ({})", std::strerror(errno)));
    // A file's size is known before it is read, so one past the limit is refused at once; a pipe's is not,
    // so reading also stops as soon as the bytes pass the limit.
    struct stat info;
    const uint64_t size = fstat(fileno(f), &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
    std::vector<uint8_t> bytes;
    std::array<uint8_t, 1 << 16> chunk;
    size_t n;
    while (size <= kMaxNpzBytes && bytes.size() <= kMaxNpzBytes &&
           (n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0)
        bytes.insert(bytes.end(), chunk.data(), chunk.data() + n);
    const bool failed = std::ferror(f) != 0;
    const int error = errno;
    std::fclose(f);
    if (failed) fail(path, fmt::format("read error ({})", std::strerror(error)));
    const uint64_t total = std::max<uint64_t>(size, bytes.size());
    if (total > kMaxNpzBytes) fail(path, too_large(total));
    return bytes;
}

// The parsed header dict of a .npy member.
struct NpyHeader {
    std::string descr;  // dtype, e.g. '<f4'
    bool fortran_order = false;
    std::vector<int> shape;
};

// Parses the dict literal NumPy writes, e.g.  {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// This is not a Python parser: it accepts exactly the three keys, with a string, True/False and a tuple
// of non-negative integers as their values, and it says what it expected when the text is anything else.
class NpyHeaderParser {
  public:
    NpyHeaderParser(const std::string& text, std::string where) : text_(text), where_(std::move(where)) {}

    NpyHeader parse() {
        NpyHeader h;
        bool has_descr = false, has_order = false, has_shape = false;
        expect('{');
        while (!peek('}')) {
            const std::string key = string_literal();
            expect(':');
            if (key == "descr") {
                if (peek('[')) fail(where_, "structured dtypes are not supported (only '<f4' and '<f8')");
                h.descr = string_literal();
                has_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = boolean();
                has_order = true;
            } else if (key == "shape") {
                h.shape = int_tuple();
                has_shape = true;
            } else {
                error(fmt::format("unexpected key '{}'", key));
            }
            if (!peek(',')) break;
            expect(',');
        }
        expect('}');
        if (!has_descr || !has_order || !has_shape)
            error("the keys 'descr', 'fortran_order' and 'shape' must all be present");
        return h;
    }

  private:
    [[noreturn]] void error(const std::string& what) {
        // The header is padding-trimmed and shortened so that a garbage header keeps the message short.
        std::string shown = text_.substr(0, text_.find_last_not_of(" \n") + 1).substr(0, 120);
        fail(where_, fmt::format("malformed .npy header ({}): {}", what, shown));
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
    }

    // True if the next non-space character is c (which is not consumed).
    bool peek(char c) {
        skip_space();
        return pos_ < text_.size() && text_[pos_] == c;
    }

    void expect(char c) {
        if (!peek(c)) error(fmt::format("expected '{}'", c));
        ++pos_;
    }

    std::string string_literal() {
        skip_space();
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) error("expected a string");
        const char quote = text_[pos_++];
        const size_t end = text_.find(quote, pos_);
        if (end == std::string::npos) error("unterminated string");
        std::string s = text_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return s;
    }

    bool boolean() {
        skip_space();
        if (text_.compare(pos_, 4, "True") == 0) {
            pos_ += 4;
            return true;
        }
        if (text_.compare(pos_, 5, "False") == 0) {
            pos_ += 5;
            return false;
        }
        error("expected True or False");
    }

    std::vector<int> int_tuple() {
        std::vector<int> values;
        expect('(');
        while (!peek(')')) {
            if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') error("expected a dimension");
            int64_t v = 0;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
                v = v * 10 + (text_[pos_++] - '0');
                if (v > INT_MAX) error("a dimension is too large");
            }
            values.push_back(static_cast<int>(v));
            if (!peek(',')) break;
            expect(',');
        }
        expect(')');
        return values;
    }

    const std::string& text_;
    std::string where_;
    size_t pos_ = 0;
};

// A column-major (Fortran-order) array of shape (d0, ..., dk) stores element [i0, ..., ik] at offset
// i0 + d0 * (i1 + d1 * (i2 + ...)). Walk the row-major positions in order and fetch each from there.
std::vector<Real> column_major_to_row_major(const std::vector<Real>& column_major,
                                            const std::vector<int>& dims) {
    std::vector<Real> row_major(column_major.size());
    std::vector<int> index(dims.size(), 0);  // the multi-index of row-major position i
    for (size_t i = 0; i < row_major.size(); ++i) {
        size_t offset = 0, stride = 1;
        for (size_t k = 0; k < dims.size(); ++k) {
            offset += static_cast<size_t>(index[k]) * stride;
            stride *= static_cast<size_t>(dims[k]);
        }
        row_major[i] = column_major[offset];
        // Advance the multi-index like an odometer, the last dimension turning fastest.
        for (size_t k = dims.size(); k-- > 0;) {
            if (++index[k] < dims[k]) break;
            index[k] = 0;
        }
    }
    return row_major;
}

Tensor decode_npy(const uint8_t* data, size_t size, const std::string& where) {
    Reader r(data, size, where);
    if (r.text(6) != "\x93NUMPY") fail(where, "not a .npy file (bad magic bytes)");
    const int major = r.u8(), minor = r.u8();
    size_t header_size;
    if (major == 1)
        header_size = r.u16();
    else if (major == 2 || major == 3)  // 2.0 widened the length to 32 bits; 3.0 allows UTF-8 in the header
        header_size = r.u32();
    else
        fail(where, fmt::format("unsupported .npy format version {}.{}", major, minor));
    const std::string header_text = r.text(header_size);
    const NpyHeader h = NpyHeaderParser(header_text, where).parse();

    size_t item_size;
    if (h.descr == "<f4")
        item_size = 4;
    else if (h.descr == "<f8")
        item_size = 8;
    else
        fail(where, fmt::format("unsupported dtype '{}' (only '<f4' and '<f8' can be loaded)", h.descr));
    if (h.shape.size() > static_cast<size_t>(Shape::kMaxDims))
        fail(where, fmt::format("arrays with {} dimensions are not supported (at most {})", h.shape.size(),
                                Shape::kMaxDims));

    // The values must fill the rest of the member exactly. Stop multiplying as soon as the count passes
    // the bytes available, so a huge shape from a corrupt header can neither overflow nor allocate.
    const size_t available = r.remaining();
    size_t count = 1;
    for (int d : h.shape) {
        count *= static_cast<size_t>(d);
        if (count > available) break;
    }
    if (count > available || count * item_size != available)
        fail(where, fmt::format("{} bytes of values do not match shape ({}) of dtype '{}'", available,
                                fmt::join(h.shape, ", "), h.descr));

    const uint8_t* p = r.take(available);
    std::vector<Real> values(count);
    for (size_t i = 0; i < count; ++i)
        values[i] = item_size == 4 ? static_cast<Real>(get_f32(p + 4 * i))
                                   : static_cast<Real>(get_f64(p + 8 * i));
    if (h.fortran_order) values = column_major_to_row_major(values, h.shape);
    return Tensor::from(Shape::of(h.shape), values);
}

// Finds the end-of-central-directory record. It is the last thing in the file, followed only by the
// archive comment (up to 65535 bytes), so search backwards and accept a signature only if its comment
// length reaches exactly to the end of the file: four bytes of float data can spell "PK\5\6" too.
size_t find_end_record(const std::vector<uint8_t>& bytes, const std::string& path) {
    if (bytes.empty()) fail(path, "not a zip archive (the file is empty)");
    if (bytes.size() >= 6 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0)
        fail(path, "not a zip archive but a single .npy file (np.save); save with np.savez instead");
    if (bytes.size() < 2 || bytes[0] != 'P' || bytes[1] != 'K') fail(path, "not a zip archive");
    if (bytes.size() >= kEndRecordSize) {
        const size_t last = bytes.size() - kEndRecordSize;
        const size_t first = last > 0xFFFF ? last - 0xFFFF : 0;
        for (size_t pos = last + 1; pos-- > first;) {
            const size_t comment_size = bytes[pos + 20] | bytes[pos + 21] << 8;
            if (get_u32(&bytes[pos]) == kEndSignature && pos + kEndRecordSize + comment_size == bytes.size())
                return pos;
        }
    }
    fail(path, "truncated (the end-of-central-directory record is missing)");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

void save_npz(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& arrays) {
    write_file_atomically(path, encode_zip(path, arrays));
}

std::vector<std::pair<std::string, Tensor>> load_npz(const std::string& path) {
    return load_npz(read_file(path), path);
}

std::vector<std::pair<std::string, Tensor>> load_npz(const std::vector<uint8_t>& bytes, const std::string& path) {
    if (bytes.size() > kMaxNpzBytes) fail(path, too_large(bytes.size()));
    const size_t end_pos = find_end_record(bytes, path);

    Reader end(bytes.data() + end_pos, kEndRecordSize, path);
    end.skip(4);  // signature
    const uint32_t disk = end.u16(), directory_disk = end.u16();
    const uint32_t members_here = end.u16(), members = end.u16();
    const uint32_t directory_size = end.u32(), directory_offset = end.u32();

    // A zip64 archive announces itself with a locator record just before the end record and puts
    // all-ones placeholders in the end record's fields.
    const bool zip64 = (end_pos >= kZip64LocatorSize &&
                        get_u32(&bytes[end_pos - kZip64LocatorSize]) == kZip64LocatorSignature) ||
                       members == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF;
    if (zip64) fail(path, "zip64 archives are not supported (only archives up to 1 GiB and below 65535 members)");
    if (disk != 0 || directory_disk != 0 || members_here != members)
        fail(path, "multi-part zip archives are not supported");
    if (directory_offset > end_pos || directory_size > end_pos - directory_offset)
        fail(path, "corrupt (the central directory lies outside the file)");

    // 1. The table of contents: each member's name and where its bytes lie, every entry checked on its own.
    struct Member {
        std::string name;  // "W.npy"
        uint32_t crc, size;
        size_t begin;  // its local header: the member's bytes are [begin, data + size) of the file
        size_t data;   // its .npy bytes
    };
    const auto where = [&](const std::string& name) { return fmt::format("{}: member '{}'", path, name); };
    Reader directory(bytes.data() + directory_offset, directory_size, path + ": central directory");
    std::vector<Member> table;
    std::set<std::string> names;
    for (uint32_t i = 0; i < members; ++i) {
        if (directory.u32() != kCentralSignature) fail(path, "corrupt central directory (bad signature)");
        directory.skip(4);  // version made by, version needed
        const uint32_t flags = directory.u16(), method = directory.u16();
        directory.skip(4);  // time, date
        const uint32_t crc = directory.u32(), stored_size = directory.u32(), size = directory.u32();
        const uint32_t name_size = directory.u16(), extra_size = directory.u16();
        const uint32_t comment_size = directory.u16();
        directory.skip(8);  // starting disk (2), internal attributes (2), external attributes (4)
        const uint32_t local_offset = directory.u32();
        const std::string name = directory.text(name_size);
        directory.skip(extra_size + comment_size);

        const std::string member = where(name);
        if (stored_size == 0xFFFFFFFF || size == 0xFFFFFFFF || local_offset == 0xFFFFFFFF)
            fail(member, "zip64 members are not supported (only archives up to 1 GiB)");
        if (flags & kFlagEncrypted) fail(member, "encrypted members are not supported");
        if (method == 8)
            fail(member, "compressed members are not supported (deflate): save with np.savez, "
                         "not np.savez_compressed");
        if (method != 0) fail(member, fmt::format("compressed members are not supported (method {})", method));
        if (stored_size != size) fail(member, "corrupt (a stored member has two different sizes)");
        if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
            fail(member, "not a .npy file (the name does not end in .npy)");
        if (!names.insert(name).second) fail(member, "appears twice in the archive");

        // The member's local header and data lie before the central directory.
        if (local_offset > directory_offset) fail(member, "corrupt (its offset lies outside the file)");
        Reader local(bytes.data() + local_offset, directory_offset - local_offset, member);
        if (local.u32() != kLocalSignature) fail(member, "corrupt (bad local header signature)");
        local.skip(22);  // versions, flags, method, time, date, crc, sizes: the central directory's are used
        const uint32_t local_name_size = local.u16(), local_extra_size = local.u16();
        local.skip(local_name_size + local_extra_size);
        const size_t data = static_cast<size_t>(local.take(size) - bytes.data());
        table.push_back({name, crc, size, local_offset, data});
    }

    // 2. No two members may share bytes. A crafted directory can list one member thousands of times under
    //    different names, each to be decoded anew: a 4 MB file would ask for gigabytes. Members that do not
    //    overlap add up to at most the file size, and that bounds what step 3 allocates (npz.h).
    std::vector<const Member*> in_file_order;
    for (const Member& m : table) in_file_order.push_back(&m);
    std::stable_sort(in_file_order.begin(), in_file_order.end(),
                     [](const Member* a, const Member* b) { return a->begin < b->begin; });
    for (size_t k = 1; k < in_file_order.size(); ++k) {
        const Member& before = *in_file_order[k - 1];
        const Member& m = *in_file_order[k];
        if (m.begin < before.data + before.size)
            fail(where(m.name), fmt::format("shares its bytes with member '{}' (offsets {} and {}): a corrupt or "
                                            "crafted archive",
                                            before.name, before.begin, m.begin));
    }

    // 3. Every member's checksum and values, in archive order.
    std::vector<std::pair<std::string, Tensor>> arrays;
    for (const Member& m : table) {
        const uint8_t* data = bytes.data() + m.data;
        const uint32_t actual_crc = crc32(data, m.size);
        // A fuzzer's mutation of a member almost never keeps its checksum right, so the fuzz build (make fuzz)
        // lets a wrong one through: the .npy decoding behind it then gets fuzzed too, not only this check.
        if (actual_crc != m.crc && !kFuzzing)
            fail(where(m.name), fmt::format("CRC mismatch (stored {:08x}, computed {:08x}): the file is corrupt",
                                            m.crc, actual_crc));
        arrays.emplace_back(m.name.substr(0, m.name.size() - 4), decode_npy(data, m.size, where(m.name)));
    }
    return arrays;
}

}  // namespace s2a

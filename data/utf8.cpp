// data/utf8.cpp — decoding and encoding UTF-8, and the display width of characters.
#include "data/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace s2a {

namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }  // 10xxxxxx

// The bytes s[at .. at+n) as "e5 b9", for a message.
std::string hex_bytes(const std::string& s, size_t at, size_t n) {
    std::string out;
    for (size_t k = at; k < at + n && k < s.size(); ++k)
        out += fmt::format("{}{:02x}", out.empty() ? "" : " ", static_cast<unsigned char>(s[k]));
    return out;
}

// The multi-byte rows of the table in utf8.h: which lead bytes start them, how many bytes they take, the
// lead byte's bits that belong to the code point, and the first code point that needs this many bytes
// (anything smaller written this long is overlong).
struct Form {
    unsigned char first_lead, last_lead;
    int bytes;
    uint32_t lead_bits, smallest;
};
constexpr Form kForms[] = {
    {0xC0, 0xDF, 2, 0x1F, 0x80},     // 110xxxxx 10xxxxxx
    {0xE0, 0xEF, 3, 0x0F, 0x800},    // 1110xxxx 10xxxxxx 10xxxxxx
    {0xF0, 0xF7, 4, 0x07, 0x10000},  // 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
};

}  // namespace

Utf8Char decode_char(const std::string& s, size_t at) {
    const unsigned char lead = static_cast<unsigned char>(s[at]);
    if (lead < 0x80) return {lead, 1, ""};
    if (is_continuation(lead))
        return {0, 1, fmt::format("byte {:02x} continues a character, but no character started", lead)};
    const Form* form = nullptr;
    for (const Form& f : kForms)
        if (lead >= f.first_lead && lead <= f.last_lead) form = &f;
    if (form == nullptr) return {0, 1, fmt::format("byte {:02x} never occurs in UTF-8", lead)};
    const int n = form->bytes;
    uint32_t c = lead & form->lead_bits;
    for (int k = 1; k < n; ++k) {
        if (at + k >= s.size() || !is_continuation(static_cast<unsigned char>(s[at + k])))
            return {0, k, fmt::format("character cut short: {:02x} starts {} bytes, but only {} came", lead, n,
                                      hex_bytes(s, at, k))};
        c = (c << 6) | (static_cast<unsigned char>(s[at + k]) & 0x3F);  // six more bits
    }
    const std::string bytes = hex_bytes(s, at, n);
    if (c < form->smallest) return {0, n, fmt::format("bytes {} are an overlong encoding of U+{:04X}", bytes, c)};
    if (c >= 0xD800 && c <= 0xDFFF)
        return {0, n, fmt::format("bytes {} encode U+{:04X}, a UTF-16 surrogate, not a character", bytes, c)};
    if (c > 0x10FFFF) return {0, n, fmt::format("bytes {} encode U+{:X}, beyond U+10FFFF", bytes, c)};
    return {static_cast<char32_t>(c), n, ""};
}

Utf8Problem utf8_problem(const std::string& s) {
    int column = 1;
    for (size_t at = 0; at < s.size(); ++column) {
        Utf8Char ch = decode_char(s, at);
        if (!ch.problem.empty()) return {column, std::move(ch.problem)};
        at += ch.bytes;
    }
    return {};
}

std::u32string utf8_decode(const std::string& s) {
    std::u32string out;
    for (size_t at = 0; at < s.size();) {
        const Utf8Char ch = decode_char(s, at);
        if (!ch.problem.empty())
            throw std::runtime_error(fmt::format("invalid UTF-8 in column {}: {}", out.size() + 1, ch.problem));
        out += ch.code_point;
        at += ch.bytes;
    }
    return out;
}

std::string utf8_encode(char32_t c) {
    if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
        throw std::invalid_argument(fmt::format("utf8_encode: U+{:04X} is not a character", static_cast<uint32_t>(c)));
    // The table in utf8.h, read right to left: the low six bits go into the last byte, and so on.
    auto tail = [c](int shift) { return static_cast<char>(0x80 | ((c >> shift) & 0x3F)); };
    if (c < 0x80) return std::string(1, static_cast<char>(c));
    if (c < 0x800) return {static_cast<char>(0xC0 | (c >> 6)), tail(0)};
    if (c < 0x10000) return {static_cast<char>(0xE0 | (c >> 12)), tail(6), tail(0)};
    return {static_cast<char>(0xF0 | (c >> 18)), tail(12), tail(6), tail(0)};
}

std::string utf8_encode(const std::u32string& s) {
    std::string out;
    for (char32_t c : s) out += utf8_encode(c);
    return out;
}

size_t utf8_length(const std::string& s) {
    size_t n = 0;
    for (char byte : s) n += !is_continuation(static_cast<unsigned char>(byte));
    return n;
}

int display_width(char32_t c) {
    // The East Asian Wide and Fullwidth blocks (Unicode's UAX #11), as terminals draw them.
    const bool wide = (c >= 0x1100 && c <= 0x115F) ||                   // Hangul initial consonants
                      (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||    // CJK radicals, punctuation, kana, ideographs, Yi
                      (c >= 0xAC00 && c <= 0xD7A3) ||                   // Hangul syllables
                      (c >= 0xF900 && c <= 0xFAFF) ||                   // CJK compatibility ideographs
                      (c >= 0xFE30 && c <= 0xFE4F) ||                   // CJK compatibility forms
                      (c >= 0xFF00 && c <= 0xFF60) ||                   // fullwidth forms: '，' '（'
                      (c >= 0xFFE0 && c <= 0xFFE6) ||                   // fullwidth signs
                      (c >= 0x1F300 && c <= 0x1F64F) ||                 // pictographs and emoticons
                      (c >= 0x1F900 && c <= 0x1F9FF) ||                 // supplemental pictographs
                      (c >= 0x20000 && c <= 0x3FFFD);                   // CJK extensions B and beyond
    return wide ? 2 : 1;
}

int display_width(const std::string& s) {
    int width = 0;
    for (size_t at = 0; at < s.size();) {
        const Utf8Char ch = decode_char(s, at);
        width += ch.problem.empty() ? display_width(ch.code_point) : 1;
        at += ch.bytes;
    }
    return width;
}

std::string prefix_of_width(const std::string& s, int width) {
    int used = 0;
    for (size_t at = 0; at < s.size();) {
        const Utf8Char ch = decode_char(s, at);
        used += ch.problem.empty() ? display_width(ch.code_point) : 1;
        if (used > width) return s.substr(0, at);
        at += ch.bytes;
    }
    return s;
}

std::string pad_to_width(const std::string& s, int width) {
    return s + std::string(static_cast<size_t>(std::max(0, width - display_width(s))), ' ');
}

}  // namespace s2a

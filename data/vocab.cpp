// data/vocab.cpp — the character vocabulary: building it from texts, encoding and decoding.
#include "data/vocab.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>

#include "data/utf8.h"

namespace s2a {

namespace {

// The text as it can be shown inside quotes in a message: control characters and invalid bytes become \xNN.
std::string printable_text(const std::string& s) {
    std::string out;
    for (size_t at = 0; at < s.size();) {
        const Utf8Char ch = decode_char(s, at);
        if (ch.problem.empty() && is_printable(ch.code_point))
            out += s.substr(at, ch.bytes);
        else
            for (int k = 0; k < ch.bytes; ++k) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[at + k]));
        at += ch.bytes;
    }
    return out;
}

// The characters of `text`; throws, naming the text, if it is not valid UTF-8. `who` starts the message.
std::u32string characters_of(const std::string& text, const char* who) {
    try {
        return utf8_decode(text);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("{}: {} of \"{}\"", who, e.what(), printable_text(text)));
    }
}

}  // namespace

bool is_printable(char32_t c) { return c >= 0x20 && c != 0x7F && !(c >= 0x80 && c < 0xA0); }

std::string describe_char(char32_t c) {
    if (!is_printable(c)) return fmt::format("code {}", static_cast<uint32_t>(c));
    if (c < 0x80) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("'{}' (U+{:04X})", utf8_encode(c), static_cast<uint32_t>(c));
}

Vocab Vocab::from_texts(const std::vector<std::string>& texts) {
    std::set<char32_t> seen;  // each character once, in sorted order: the order of the ids
    for (const std::string& text : texts) {
        for (char32_t c : characters_of(text, "Vocab::from_texts")) {
            if (!is_printable(c))
                throw std::runtime_error(fmt::format("Vocab::from_texts: non-printable character ({}) in \"{}\"",
                                                     describe_char(c), printable_text(text)));
            seen.insert(c);
        }
    }
    Vocab v;
    v.code_points_.assign(seen.begin(), seen.end());
    v.chars_ = utf8_encode(v.code_points_);
    return v;
}

bool Vocab::contains(char32_t c) const { return std::binary_search(code_points_.begin(), code_points_.end(), c); }

int Vocab::id(char32_t c) const {
    if (!contains(c)) throw std::runtime_error(fmt::format("Vocab: unknown character {}", describe_char(c)));
    // The list is sorted, so the character's place is found by binary search.
    return static_cast<int>(std::lower_bound(code_points_.begin(), code_points_.end(), c) - code_points_.begin());
}

std::string Vocab::ch(int id) const {
    if (id < 0 || id >= size())
        throw std::runtime_error(fmt::format("Vocab: id {} out of range 0..{}", id, size() - 1));
    return utf8_encode(code_points_[id]);
}

std::vector<int> Vocab::encode(const std::string& s) const {
    const std::u32string characters = characters_of(s, "Vocab::encode");
    std::vector<int> ids;
    ids.reserve(characters.size());
    for (char32_t c : characters) {
        if (!contains(c))
            throw std::runtime_error(fmt::format("Vocab::encode: unknown character {} in \"{}\"", describe_char(c),
                                                 printable_text(s)));
        ids.push_back(id(c));
    }
    return ids;
}

std::string Vocab::decode(const std::vector<int>& ids) const {
    std::string s;
    s.reserve(ids.size());
    for (int i : ids) s += ch(i);
    return s;
}

}  // namespace s2a

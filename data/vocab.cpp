// data/vocab.cpp — the character vocabulary: building it from texts, encoding and decoding.
#include "data/vocab.h"

#include <fmt/format.h>

#include <stdexcept>

namespace s2a {

namespace {

bool is_printable(char c) { return c >= ' ' && c <= '~'; }

// The text as it can be shown inside quotes in a message: non-printable characters become \xNN.
std::string printable_text(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (is_printable(c))
            out += c;
        else
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
    return out;
}

}  // namespace

std::string describe_char(char c) {
    if (is_printable(c)) return fmt::format("'{}'", c);
    return fmt::format("code {}", static_cast<int>(static_cast<unsigned char>(c)));
}

Vocab Vocab::from_texts(const std::vector<std::string>& texts) {
    // Mark which of the 128 ASCII codes occur; walking the codes in order then gives sorted ids.
    std::array<bool, 128> seen{};
    for (const std::string& text : texts) {
        for (char c : text) {
            if (!is_printable(c))
                throw std::runtime_error(fmt::format("Vocab::from_texts: non-printable character ({}) in \"{}\"",
                                                     describe_char(c), printable_text(text)));
            seen[static_cast<int>(c)] = true;
        }
    }
    Vocab v;
    for (int code = 0; code < 128; ++code) {
        if (!seen[code]) continue;
        v.ids_[code] = v.size();
        v.chars_ += static_cast<char>(code);
    }
    return v;
}

bool Vocab::contains(char c) const {
    // char may be signed: bytes above 127 come out negative and are never in the vocabulary.
    const int code = static_cast<unsigned char>(c);
    return code < 128 && ids_[code] >= 0;
}

int Vocab::id(char c) const {
    if (!contains(c)) throw std::runtime_error(fmt::format("Vocab: unknown character {}", describe_char(c)));
    return ids_[static_cast<int>(c)];
}

char Vocab::ch(int id) const {
    if (id < 0 || id >= size())
        throw std::runtime_error(fmt::format("Vocab: id {} out of range 0..{}", id, size() - 1));
    return chars_[id];
}

std::vector<int> Vocab::encode(const std::string& s) const {
    std::vector<int> ids;
    ids.reserve(s.size());
    for (char c : s) {
        if (!contains(c))
            throw std::runtime_error(fmt::format("Vocab::encode: unknown character {} in \"{}\"", describe_char(c),
                                                 printable_text(s)));
        ids.push_back(ids_[static_cast<int>(c)]);
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

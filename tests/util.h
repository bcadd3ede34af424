// tests/util.h — small helpers the test files share.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace s2a {

// The message of the exception `f` throws, or "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace s2a

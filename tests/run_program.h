// tests/run_program.h — run a program built in this test binary's own variant and capture what it prints.
// The programs are the ones in S2A_BUILD_DIR/bin (the Makefile sets S2A_BUILD_DIR per variant).
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdio>
#include <initializer_list>
#include <string>

namespace s2a_test {

struct Run {
    int status;          // the program's exit status
    std::string output;  // stdout and stderr together
};

// Runs a shell command line and captures what it prints.
inline Run run_command(const std::string& command) {
    const std::string cmd = command + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline Run run(const std::string& program, const std::string& args) {
    return run_command(fmt::format("{}/bin/{} {}", S2A_BUILD_DIR, program, args));
}

inline bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs the program and checks that it exits with `status` and that its output holds every one of `texts`
// (the output is shown when a check fails); returns the run for further checks.
inline Run check_run(const std::string& program, const std::string& args, int status, std::initializer_list<const char*> texts) {
    const Run r = run(program, args);
    INFO(program, " ", args, " printed:\n", r.output);
    CHECK(r.status == status);
    for (const char* text : texts) CHECK_MESSAGE(has(r.output, text), "missing: ", text);
    return r;
}

}  // namespace s2a_test

using s2a_test::check_run;
using s2a_test::Run;
using s2a_test::has;
using s2a_test::run;
using s2a_test::run_command;

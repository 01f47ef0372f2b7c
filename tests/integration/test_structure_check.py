"""scripts/structure-check.py (issue 21) on small made-up trees: no containers, no husk."""
import os
import subprocess
import sys

from conftest import REPO

CHECKER = os.path.join(REPO, "scripts", "structure-check.py")


def check(root, *opts):
    p = subprocess.run([sys.executable, CHECKER, *opts, str(root)], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stdout.splitlines()


def function(name, body_lines, brace_own_line=True):
    head = [f"static int {name}(int a,", "                 int b)"]
    head += ["{"] if brace_own_line else []
    if not brace_own_line:
        head[-1] += " {"
    body = [f"    a += b; /* {i} */" for i in range(body_lines)]
    return head + body + ["    return a;", "}", ""]


def write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_clean_tree_passes(tmp_path):
    write(tmp_path / "src" / "a.c", ["#include <x.h>", ""] + function("short_one", 10))
    assert check(tmp_path / "src") == (0, [])


def test_long_function_reported_from_signature_to_closing_brace(tmp_path):
    # 2 signature lines + "{" + 76 body lines + return + "}" = 81 lines
    lines = ["/* a comment", " * { not code }", " */", ""] + function("too_long", 76)
    lines += function("just_fits", 75, brace_own_line=False)  # 2 + 75 + 2 = 79
    write(tmp_path / "src" / "oci" / "long.c", lines)
    rc, out = check(tmp_path / "src")
    assert rc == 1
    assert out == [f"{tmp_path}/src/oci/long.c:5: function too_long is 81 lines (max 80)"]


def test_limits_are_options(tmp_path):
    write(tmp_path / "src" / "a.c", function("f", 10))  # 2 + 1 + 10 + 2 = 15 lines
    assert check(tmp_path / "src", "--max-function", "15")[0] == 0
    rc, out = check(tmp_path / "src", "--max-function", "14")
    assert rc == 1 and out == [f"{tmp_path}/src/a.c:1: function f is 15 lines (max 14)"]


def test_long_file_reported(tmp_path):
    write(tmp_path / "src" / "big.h", [f"int v{i};" for i in range(601)])
    write(tmp_path / "src" / "ok.h", [f"int w{i};" for i in range(600)])
    rc, out = check(tmp_path / "src")
    assert rc == 1
    assert out == [f"{tmp_path}/src/big.h: file is 601 lines (max 600)"]


def test_marked_table_is_exempt_and_initializers_are_not_functions(tmp_path):
    table = ["/* structure-check: table */"] + function("document", 100)
    initializer = ["static const int codes[] = {"] + [f"    {i}," for i in range(100)] + ["};", ""]
    struct = ["struct big {"] + [f"    int f{i};" for i in range(100)] + ["};", ""]
    macro = ["#define M(x) \\", "    do { \\", "} while (0)", ""]
    write(tmp_path / "src" / "t.c", table + initializer + struct + macro)
    assert check(tmp_path / "src") == (0, [])


def test_marker_only_applies_to_the_next_definition(tmp_path):
    lines = ["/* structure-check: table */", "int x;", ""] + function("not_a_table", 90)
    write(tmp_path / "src" / "t.c", lines)
    rc, out = check(tmp_path / "src")
    assert rc == 1 and out == [f"{tmp_path}/src/t.c:4: function not_a_table is 95 lines (max 80)"]


def test_one_line_definitions_do_not_join_the_next(tmp_path):
    lines = ["void begin(struct w *w) { open_(w, '{'); }", "void end(struct w *w) { close_(w, '}'); }", ""]
    lines += function("after_one_liners", 76)
    write(tmp_path / "src" / "j.c", lines)
    rc, out = check(tmp_path / "src")
    assert rc == 1 and out == [f"{tmp_path}/src/j.c:4: function after_one_liners is 81 lines (max 80)"]

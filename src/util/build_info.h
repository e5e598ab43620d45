// Which source lntune was built from, so a result can say which code made it. A pretrained
// model is reproducible bit for bit only by the same code (docs/results.md: the same machine
// made other weights at a later commit), so results.json of `lntune train` and `lntune pretrain`
// and `lntune info` name the commit.
#pragma once

namespace lntune {

// The git commit of the source tree at build time ("<40 hex digits>", with "-dirty" when tracked
// files differed from it), or "unknown" when the source was not a git checkout. Written into a
// generated file by cmake/build_info.cmake at every build; unchanged text recompiles nothing.
const char* build_commit();

}  // namespace lntune

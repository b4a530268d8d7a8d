// Untrusted text made safe to show on a terminal. Manifests, GGUF metadata, requests, file names
// and error messages that quote them may hold ESC sequences (which recolour, retitle or rewrite
// the terminal), BEL, bidi overrides (which reorder what the reader sees), NUL (which truncates C
// strings) and bytes that are not UTF-8. Every human-readable output of such text goes through
// Printable; JSON output escapes by its own rules (cli::DumpJson).
#ifndef TESSERA_BASE_PRINTABLE_H_
#define TESSERA_BASE_PRINTABLE_H_

#include <string>
#include <string_view>

namespace tessera::base {

// `text` with every control or invisible-reordering character written as an escape: C0 controls
// and DEL as \n, \t, \r or \xHH; C1 controls, bidi embeddings, overrides, isolates and marks,
// and the line and paragraph separators as \u{HHHH}; each byte of an invalid UTF-8 sequence as
// \xHH. Everything else, including other non-ASCII text, is kept as it is.
std::string Printable(std::string_view text);

// As Printable, but line feeds are kept: for messages of several lines.
std::string PrintableLines(std::string_view text);

// True when Printable(text) == text.
bool IsPrintable(std::string_view text);

}  // namespace tessera::base

#endif  // TESSERA_BASE_PRINTABLE_H_

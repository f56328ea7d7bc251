#pragma once
// The one way smbsim reads a result file it did not just write (docs/reliability.md,
// "Result files are untrusted, in every command (issue 27)"): `summarize`, `discover` and,
// through `summarize`, `report`. The file is opened only if it is a readable regular file
// whose every object is stored in the file itself, and the command's whole read runs
// first in a forked child with a time limit and a memory cap, so that damage which
// crashes libhdf5, makes it loop or makes it allocate without bound ends the child, not
// the command.
#include "engine/hdf5_handle.hpp"
#include "engine/input_error.hpp"

#include <functional>
#include <string>

namespace smbsim {

/// How long a guarded read may take by default: far above what a valid file needs (400
/// variants read in 1.7 s), far below "for ever".
inline constexpr double kReadTimeLimitSeconds = 600;

/// Opens a result file read-only. Throws InputError naming the file unless it is a
/// readable regular file (a FIFO would block the open for ever) in HDF5's format whose
/// links are all hard links and whose datasets keep their data in the file: no external
/// storage, external or soft links, or virtual datasets (any of which would make a reader
/// read another file: /etc/shadow, say). Checked before any data is read.
H5Id open_result_file(const std::string& path);

/// The memory a command may use for what it reads, in bytes: half of physical memory, or
/// less if this process's address-space limit (ulimit -v) leaves less beyond what it holds.
double memory_for_reading_bytes();

/// Runs `read` in a forked child: limited to `seconds` (past them: OutputError naming
/// the limit), to an address space of what it holds now plus the lesser of half of
/// physical memory and 1 GiB plus what the file's size can stand for (kMaxCompression x 8
/// per byte), its crash reported as an
/// InputError. An InputError it throws is thrown here, without reading again; returns
/// when the read ended otherwise (it can then be repeated here, within the same bounds).
void rehearse_read(const std::string& path, double seconds, const std::function<void()>& read);

/// `read()` of the file at `path`, rehearsed first by rehearse_read().
template <class Read>
auto guarded_read(const std::string& path, double seconds, Read&& read) {
  rehearse_read(path, seconds, [&] { (void)read(); });
  return read();
}

}  // namespace smbsim

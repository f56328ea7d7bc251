// Ranks, spool and block transport over MPI (Debian's Open MPI; any MPI-3 library works).
#include "engine/ranks.hpp"

#include "engine/hdf5_handle.hpp"
#include "engine/runner.hpp"

#include <mpi.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace smbsim {

namespace {
static_assert(std::is_trivially_copyable_v<Moments>, "moments travel as bytes");
constexpr int kBlockTag = 16;   // block records, then the end marker
constexpr int kGoTag = 17;      // rank 0 to a rank: send your blocks now
constexpr int kCountsTag = 18;  // a rank's integer parts, after its end marker

/// A block record: this header, then n_moments Moments, n_outcomes, n_paths and n_inputs doubles.
struct RecordHeader {
  std::int64_t index;  // -1: no more blocks
  std::int64_t first, count;
  std::int64_t n_moments, n_outcomes, n_paths, n_inputs;
  std::size_t payload_bytes() const {
    return static_cast<std::size_t>(n_moments) * sizeof(Moments) +
           static_cast<std::size_t>(n_outcomes + n_paths + n_inputs) * sizeof(double);
  }
};
static_assert(std::is_trivially_copyable_v<RecordHeader>);

bool started_by_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(what) + ": " + std::string(text, static_cast<std::size_t>(len)));
}

int message_bytes(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT_MAX))
    throw std::runtime_error("a block's message is over 2 GiB: use a smaller block size or fewer traced paths");
  return static_cast<int>(bytes);
}
}  // namespace

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

Ranks::Ranks() {
  if (!started_by_mpi_launcher()) return;
  int provided = 0;
  // Only the main thread calls MPI (the threads of a rank simulate and write, never send).
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  mpi_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Ranks::Agreement Ranks::agree(int code) {
  agreed_ = true;
  if (!mpi_) return {code, code};
  int mine[2] = {code, root() ? code : INT_MIN}, all[2] = {0, 0};
  check(MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return {all[0], all[1]};
}

std::vector<double> Ranks::gather(std::span<const double> part) const {
  if (!mpi_) return {part.begin(), part.end()};
  auto count_of = [](std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX)) throw std::runtime_error("gather: over 2^31 values from the ranks");
    return static_cast<int>(n);
  };
  const int mine = count_of(part.size());
  std::vector<int> counts(static_cast<std::size_t>(size_), 0), starts(static_cast<std::size_t>(size_), 0);
  check(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
  std::vector<double> all;
  if (root()) {
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      starts[r] = count_of(total);
      total += static_cast<std::size_t>(counts[r]);
    }
    all.resize(static_cast<std::size_t>(count_of(total)));
  }
  // (A rank with nothing to send still passes a valid pointer.)
  const double none = 0;
  double sink = 0;
  check(MPI_Gatherv(part.empty() ? &none : part.data(), mine, MPI_DOUBLE, all.empty() ? &sink : all.data(), counts.data(),
                    starts.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD),
        "MPI_Gatherv");
  return all;
}

bool Ranks::broadcast(bool flag) const {
  if (!mpi_) return flag;
  int value = flag ? 1 : 0;
  // The other ranks may wait long (rank 0 bootstrapping): asleep, not spinning in MPI,
  // which would take a core from rank 0 on a shared node.
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Ibcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  for (int done = 0; !done;) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (!done) ::usleep(2000);
  }
  return value != 0;
}

void Ranks::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "smbsim: rank %d of %d: %s\n", rank_, size_, message.c_str());
  std::fflush(stderr);
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void Ranks::finalize() {
  int finalized = 0;
  if (mpi_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
}

BlockSpool::BlockSpool() {
  const char* tmp = std::getenv("TMPDIR");
  where_ = tmp && *tmp ? tmp : "/tmp";
  std::string name = where_ + "/smbsim-spool-XXXXXX";
  const int fd = ::mkstemp(name.data());
  if (fd < 0)
    throw OutputError("cannot create a spool file for this rank's blocks in " + where_ + " ($TMPDIR): " +
                      std::strerror(errno));
  ::unlink(name.c_str());  // gone with the process, however it ends
  file_ = ::fdopen(fd, "w+b");
  if (!file_) {
    ::close(fd);
    throw OutputError("cannot open the spool file in " + where_ + ": " + std::strerror(errno));
  }
}

BlockSpool::~BlockSpool() {
  if (file_) std::fclose(file_);
}

void BlockSpool::add(const FinishedBlock& b) {
  const auto moments = b.stats.all_moments();
  const RecordHeader h{b.index, b.first, b.count, static_cast<std::int64_t>(moments.size()),
                       static_cast<std::int64_t>(b.outcomes.size()),
                       b.paths.traced * static_cast<std::int64_t>(b.paths.path_len),
                       static_cast<std::int64_t>(b.inputs.size())};
  // (An empty part writes nothing: fwrite must not see an empty span's null pointer.)
  auto put = [&](const void* data, std::size_t size, std::size_t n) { return n == 0 || std::fwrite(data, size, n, file_) == n; };
  bool ok = put(&h, sizeof h, 1) && put(moments.data(), sizeof(Moments), moments.size()) &&
            put(b.outcomes.data(), sizeof(double), b.outcomes.size());
  b.paths.each_chunk([&](std::int64_t, std::int64_t, std::span<const double> paths) {
    ok = ok && put(paths.data(), sizeof(double), paths.size());
  });
  ok = ok && put(b.inputs.data(), sizeof(double), b.inputs.size());
  if (!ok) throw OutputError("cannot write the spool file in " + where_ + ": " + std::strerror(errno));
}

void BlockSpool::send_to_root(std::span<const std::int64_t> counts) {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
    throw OutputError("cannot rewind the spool file in " + where_ + ": " + std::strerror(errno));
  // Rank 0 may be busy for a long time with other ranks' blocks: wait for its word without
  // spinning in MPI (which would take a core from ranks sharing the node).
  for (int ready = 0; !ready;) {
    check(MPI_Iprobe(0, kGoTag, MPI_COMM_WORLD, &ready, MPI_STATUS_IGNORE), "MPI_Iprobe");
    if (!ready) ::usleep(2000);
  }
  check(MPI_Recv(nullptr, 0, MPI_BYTE, 0, kGoTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  // Two buffers: the next record is read while the last one is on its way.
  std::array<std::vector<char>, 2> buffers;
  std::array<MPI_Request, 2> sent{MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  for (std::size_t k = 0;; ++k) {
    std::vector<char>& buf = buffers[k % 2];
    check(MPI_Wait(&sent[k % 2], MPI_STATUS_IGNORE), "MPI_Wait");
    RecordHeader h{};
    if (std::fread(&h, sizeof h, 1, file_) != 1) {
      if (std::ferror(file_)) throw OutputError("cannot read the spool file in " + where_ + ": " + std::strerror(errno));
      h = RecordHeader{-1, 0, 0, 0, 0, 0, 0};
    }
    buf.resize(sizeof h + h.payload_bytes());
    std::memcpy(buf.data(), &h, sizeof h);
    if (h.index >= 0 && std::fread(buf.data() + sizeof h, 1, h.payload_bytes(), file_) != h.payload_bytes())
      throw OutputError("cannot read the spool file in " + where_ + ": short record");
    check(MPI_Isend(buf.data(), message_bytes(buf.size()), MPI_BYTE, 0, kBlockTag, MPI_COMM_WORLD, &sent[k % 2]),
          "MPI_Isend");
    if (h.index < 0) break;
  }
  check(MPI_Waitall(2, sent.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  check(MPI_Send(counts.data(), message_bytes(counts.size()), MPI_INT64_T, 0, kCountsTag, MPI_COMM_WORLD), "MPI_Send");
}

std::vector<std::int64_t> receive_blocks(int from, std::int64_t first_block, std::int64_t end_block,
                                         const std::function<void(const ReceivedBlock&)>& on_block) {
  check(MPI_Send(nullptr, 0, MPI_BYTE, from, kGoTag, MPI_COMM_WORLD), "MPI_Send");
  std::vector<char> buf;
  std::vector<Moments> moments;
  std::vector<double> outcomes, paths, inputs;
  for (std::int64_t expected = first_block;; ++expected) {
    MPI_Status status;
    check(MPI_Probe(from, kBlockTag, MPI_COMM_WORLD, &status), "MPI_Probe");
    int bytes = 0;
    check(MPI_Get_count(&status, MPI_BYTE, &bytes), "MPI_Get_count");
    buf.resize(static_cast<std::size_t>(bytes));
    check(MPI_Recv(buf.data(), bytes, MPI_BYTE, from, kBlockTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    RecordHeader h{};
    if (buf.size() < sizeof h) throw std::runtime_error("rank " + std::to_string(from) + " sent a truncated block");
    std::memcpy(&h, buf.data(), sizeof h);
    if (h.index < 0) {
      if (expected != end_block)
        throw std::runtime_error("rank " + std::to_string(from) + " sent blocks up to " + std::to_string(expected) +
                                 ", expected up to " + std::to_string(end_block));
      MPI_Status counted;
      check(MPI_Probe(from, kCountsTag, MPI_COMM_WORLD, &counted), "MPI_Probe");
      int n = 0;
      check(MPI_Get_count(&counted, MPI_INT64_T, &n), "MPI_Get_count");
      std::vector<std::int64_t> counts(static_cast<std::size_t>(n));
      check(MPI_Recv(counts.data(), n, MPI_INT64_T, from, kCountsTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
      return counts;
    }
    if (h.index != expected || expected >= end_block || buf.size() != sizeof h + h.payload_bytes())
      throw std::runtime_error("rank " + std::to_string(from) + " sent block " + std::to_string(h.index) +
                               " out of place (expected block " + std::to_string(expected) + ")");
    const char* p = buf.data() + sizeof h;
    moments.resize(static_cast<std::size_t>(h.n_moments));
    outcomes.resize(static_cast<std::size_t>(h.n_outcomes));
    paths.resize(static_cast<std::size_t>(h.n_paths));
    inputs.resize(static_cast<std::size_t>(h.n_inputs));
    // (An empty part copies nothing: memcpy must not see an empty vector's null pointer.)
    auto take = [&p](void* to, std::size_t bytes) {
      if (bytes > 0) std::memcpy(to, p, bytes);
      p += bytes;
    };
    take(moments.data(), moments.size() * sizeof(Moments));
    take(outcomes.data(), outcomes.size() * sizeof(double));
    take(paths.data(), paths.size() * sizeof(double));
    take(inputs.data(), inputs.size() * sizeof(double));
    on_block({h.index, h.first, h.count, moments, outcomes, paths, inputs});
  }
}

}  // namespace smbsim

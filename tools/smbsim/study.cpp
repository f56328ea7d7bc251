#include "tools/smbsim/study.hpp"

#include "engine/hdf5_handle.hpp"
#include "engine/progress.hpp"
#include "engine/ranks_runner.hpp"
#include "engine/result_file.hpp"
#include "engine/runner.hpp"
#include "engine/summary.hpp"
#include "models/firm/firm.hpp"
#include "tools/smbsim/cli.hpp"

#include <tbb/info.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include <malloc.h>

namespace smbsim::cli {

static_assert(scenario::kMaxMonths == kMaxResultMonths, "summarize reads every horizon a scenario may have");

std::string default_output_name(const scenario::Scenario& sc) {
  std::string stem = std::filesystem::path(sc.name).stem().string();
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return (stem.empty() ? "smbsim" : stem) + ".h5";
}

StudyResult run_study(const scenario::Scenario& sc, const StudyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Ranks& ranks = Ranks::world();
  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  Provenance prov{sc.simulation.seed, sc.simulation.runs, sc.simulation.months, threads,
                  utc_now_iso8601(), sc.name, sc.given, sc.resolved};
  prov.ranks = ranks.size();
  // Before the temporary file can exist: a signal at any moment removes it.
  const TemporaryFileSignals signals;
  try {
    // Rank 0 alone writes. It opens the file before the ranks depend on each other, and all
    // of them learn whether it (or anything before, on any rank) failed: then all stop.
    std::optional<ResultWriter> writer;
    if (ranks.root()) {
      try {
        writer.emplace(options.output, options.force, prov);
      } catch (const std::exception& e) {
        if (ranks.distributed()) ranks.agree(std::max(exit_code_for(e), int{kRuntimeFailure}));
        throw;
      }
    }
    if (ranks.distributed()) {
      if (const int worst = ranks.agree(kOk).worst; worst != kOk)
        throw PeerFailure(worst, "another rank of the job failed before the run started (its message is above)");
    }
    try {
      for (const auto& variant : sc.variants) {
        const ModelSchema schema = firm::Firm::schema(variant.spec);
        std::unique_ptr<VariantWriter> file_sink;
        NullSink no_sink;
        if (writer) file_sink = writer->add_variant(variant.name, schema, options.paths, variant.overrides);
        Progress progress(variant.name, sc.simulation.runs,
                          ranks.root() && options.progress && Progress::stderr_is_terminal());
        RunConfig cfg;
        cfg.seed = sc.simulation.seed;
        cfg.runs = sc.simulation.runs;
        cfg.months = sc.simulation.months;
        cfg.threads = threads;
        cfg.paths = options.paths;
        cfg.progress = &progress;
        const MonthlyStats stats = simulate_on_ranks<firm::Firm>(
            ranks, variant.spec, cfg, file_sink ? static_cast<OutcomeSink&>(*file_sink) : no_sink);
        progress.finish();
        if (file_sink) file_sink->write_monthly(stats);
        // Hand the variant's freed memory back: glibc kept it in the heap, so peak memory
        // grew with the variants (200 of 10 runs: 275 MB against 47 MB in use).
        ::malloc_trim(0);
      }
      if (writer) writer->commit();
    } catch (const std::exception& e) {
      if (!ranks.distributed()) throw;
      // The other ranks wait on this one: end them all, leaving no file.
      writer.reset();
      ranks.abort(e.what(), kRuntimeFailure);
    }
  } catch (const OutputError& e) {
    // From any thread (the writer stage runs on the workers): one line naming the file.
    // The writer, unwound, has removed the temporary file; a --force target is untouched.
    const std::string what = e.what();
    throw OutputError(what.starts_with("HDF5: ") ? options.output + ": " + what : what);
  }
  return {options.output, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          ranks.root()};
}

RunsForPrecision runs_for_precision(const scenario::Scenario& sc, double half_width, int threads,
                                    std::int64_t pilot) {
  RunsForPrecision out{pilot, 0.0};
  for (const auto& variant : sc.variants) {
    RunConfig cfg;
    cfg.seed = sc.simulation.seed;
    cfg.runs = pilot;
    cfg.months = sc.simulation.months;
    cfg.threads = threads;
    NullSink sink;
    const double p = simulate<firm::Firm>(variant.spec, cfg, sink).survival(sc.simulation.months).estimate;
    // A pilot survival of exactly 0 or 1 still leaves doubt: assume one run the other way.
    const double q = std::clamp(p, 1.0 / static_cast<double>(pilot), 1.0 - 1.0 / static_cast<double>(pilot));
    const double needed = kZ95 * kZ95 * q * (1 - q) / (half_width * half_width);
    const auto runs = static_cast<std::int64_t>(std::ceil(needed / 1000.0)) * 1000;
    if (runs > out.runs || std::abs(q - 0.5) < std::abs(out.worst_p - 0.5)) out.worst_p = q;
    out.runs = std::max(out.runs, runs);
  }
  out.runs = std::min(out.runs, scenario::kMaxRuns);
  return out;
}

}  // namespace smbsim::cli

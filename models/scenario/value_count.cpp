#include "models/scenario/value_count.hpp"

#include "models/scenario/tree.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>

namespace smbsim::scenario::detail {

namespace {
/// Reads a string in place (std::istringstream would copy up to 64 MiB).
struct StringView : std::streambuf {
  explicit StringView(const std::string& s) {
    char* p = const_cast<char*>(s.data());  // only read
    setg(p, p, p + s.size());
  }
};

/// Counts nodes as the parser reports them; throws at the first past the cap.
class ValueCounter : public YAML::EventHandler {
 public:
  explicit ValueCounter(const std::string& source) : source_(source) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { count(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { count(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { count(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    count(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    count(m);
  }
  void OnMapEnd() override {}

 private:
  void count(const YAML::Mark& m) {
    if (++values_ <= kMaxNodes) return;
    throw ScenarioError({{source_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1), "",
                          "expected a scenario of at most " + std::to_string(kMaxNodes) +
                              " values, found more: a list or map this large"}});
  }
  const std::string& source_;
  std::size_t values_ = 0;
};
}  // namespace

void check_value_count(const std::string& text, const std::string& source) {
  StringView buffer(text);
  std::istream in(&buffer);
  YAML::Parser parser(in);
  ValueCounter counter(source);
  parser.HandleNextDocument(counter);  // the document YAML::Load reads
}

}  // namespace smbsim::scenario::detail

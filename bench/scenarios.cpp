#include "scenarios.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "bench_util.hpp"

namespace suite {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The EMCCD of the dim regime (issue 12): EM gain 100, 20 e-/ADU after the
// register, offset 100 ADU; read noise 50 e- rms, typical of an EMCCD's
// output amplifier (negligible after 100x gain, as on the real camera).
json emccd(json sim) {
    sim["camera"] = "emccd";
    sim["em_gain"] = 100;
    sim["e_per_adu"] = 20;
    sim["baseline_adu"] = 100;
    sim["read_noise_e"] = 50;
    return sim;
}

std::vector<Scenario> make_scenarios() {
    std::vector<Scenario> s;
    // Every regime fixes its sim seed, so that the movie is the same on every
    // run and for every pair; unnamed params are sim.tirf's defaults (seed
    // 000's: 256^2, sCMOS 0.5 e-/ADU, 1.5 e- read noise, QE 0.9, background
    // 10 photons/px, 2 % blinking, 20 % directed at 0.5 px/frame, D 0.05).
    s.push_back({"seed", "seed 000: 256^2, 20 puncta, 2000 ph, sigma 1.3, sCMOS, D 0.05, 20% directed 0.5 px/f, 100 f",
                 {{"seed", 1201}, {"num_frames", 100}}, 20});
    s.push_back({"dim_emccd",
                 "192^2, 8 puncta, 600 ph, sigma 1.6, bg 40, EMCCD (gain 100, 20 e/ADU, offset 100), blinking 10%/30%, "
                 "lifetime 40 f, 120 f",
                 emccd({{"seed", 1202}, {"num_frames", 120}, {"image_size", 192}, {"num_tracks", 8}, {"photons", 600},
                        {"psf_sigma_px", 1.6}, {"background", 40}, {"blink_off_probability", 0.1},
                        {"blink_on_probability", 0.3}, {"mean_lifetime_frames", 40}}),
                 30});
    s.push_back({"dense_fast", "150 puncta, D 1.5, 30% directed 2 px/f, lifetime 50 f, 100 f",
                 {{"seed", 1203}, {"num_frames", 100}, {"num_tracks", 150}, {"diffusion_px2_per_frame", 1.5},
                  {"directed_fraction", 0.3}, {"speed_px_per_frame", 2.0}, {"mean_lifetime_frames", 50}},
                 20});
    s.push_back({"bright_narrow", "50 puncta, 5000 ph, sigma 1.0, 100 f",
                 {{"seed", 1204}, {"num_frames", 100}, {"num_tracks", 50}, {"photons", 5000}, {"psf_sigma_px", 1.0}},
                 20});
    s.push_back({"dim_wide", "30 puncta, 300 ph, sigma 2.0, 100 f",
                 {{"seed", 1205}, {"num_frames", 100}, {"num_tracks", 30}, {"photons", 300}, {"psf_sigma_px", 2.0}},
                 20});
    s.push_back({"crowded_300", "300 puncta, D 0.1, 100 f",
                 {{"seed", 1206}, {"num_frames", 100}, {"num_tracks", 300}, {"diffusion_px2_per_frame", 0.1}},
                 20});
    s.push_back({"fast_directed", "40 puncta, 50% directed 3 px/f, D 0.1, 100 f",
                 {{"seed", 1207}, {"num_frames", 100}, {"num_tracks", 40}, {"diffusion_px2_per_frame", 0.1},
                  {"directed_fraction", 0.5}, {"speed_px_per_frame", 3.0}},
                 20});
    s.push_back({"confined", "60 puncta, D 0.3, 70% confined in r 1.5 px, 10% directed 0.5 px/f, 100 f",
                 {{"seed", 1208}, {"num_frames", 100}, {"num_tracks", 60}, {"diffusion_px2_per_frame", 0.3},
                  {"directed_fraction", 0.1}, {"confined_fraction", 0.7}, {"confinement_radius_px", 1.5}},
                 20});
    s.push_back({"blinking", "50 puncta, blinking 15%/35% (30% dark), lifetime 30 f, 100 f",
                 {{"seed", 1209}, {"num_frames", 100}, {"num_tracks", 50}, {"blink_off_probability", 0.15},
                  {"blink_on_probability", 0.35}, {"mean_lifetime_frames", 30}},
                 20});
    s.push_back({"emccd_seed", "the seed regime on the dim regime's EMCCD (gain 100, 20 e/ADU, offset 100), 100 f",
                 emccd({{"seed", 1210}, {"num_frames", 100}}), 20});
    s.push_back({"long_2000", "20 puncta, D 0.1, lifetime 200 f, 2000 f",
                 {{"seed", 1211}, {"num_frames", 2000}, {"diffusion_px2_per_frame", 0.1}, {"mean_lifetime_frames", 200}},
                 40});
    return s;
}

template <class T> T value_or(const json& j, const char* key, T fallback) {
    return j.contains(key) ? j.at(key).get<T>() : fallback;
}

std::optional<double> opt(const json& j) {
    if (j.is_number()) {
        const double v = j.get<double>();
        if (std::isfinite(v)) return v;
    }
    return std::nullopt;
}

std::optional<double> opt_text(const std::map<std::string, std::string>& row, const std::string& key) {
    const auto it = row.find(key);
    if (it == row.end() || it->second.empty()) return std::nullopt;
    try {
        const double v = std::stod(it->second);
        if (std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

// The error a failed run reports: run.json's error, else the output's last
// non-empty line.
std::string failure(const fs::path& out, const bench::ChildRun& r) {
    try {
        std::ifstream in(out / "run.json");
        if (in) {
            const json run = json::parse(in);
            if (run.contains("error") && run.at("error").is_string()) return run.at("error").get<std::string>();
        }
    } catch (const std::exception&) {
    }
    std::istringstream lines(r.output);
    std::string last;
    for (std::string l; std::getline(lines, l);)
        if (!l.empty()) last = l;
    return fmt::format("exit {}: {}", r.exit_code, last);
}

// Node ids of linker k and its gap filler; eval.tracks labels.
std::string link_id(size_t k) { return fmt::format("link{}", k); }
std::string gapfill_id(size_t k) { return fmt::format("gapfill{}", k); }
std::string alone_label(const std::string& linker) { return linker + "/alone"; }

// One run: the scenario through one detector and every linker in `linkers`
// (parallel branches of one recipe, so the movie is simulated and detected
// once). Returns one result per linker; on a failed run every result
// carries the error.
std::vector<PairResult> run_group(const Options& o, const Scenario& s, const std::string& det,
                                  const std::vector<std::string>& linkers, std::ostream& log) {
    std::vector<PairResult> rs(linkers.size());
    for (size_t k = 0; k < linkers.size(); ++k) rs[k].scenario = s.name, rs[k].detector = det, rs[k].linker = linkers[k];
    const fs::path dir = o.work / fmt::format("{}__{}__{}", s.name, det, linkers.size() == 1 ? linkers[0] : "all");
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path recipe_file = dir / "recipe.json", out = dir / "out";
    std::ofstream(recipe_file) << recipe(s, det, linkers, o.quick).dump(2) << "\n";
    std::vector<std::string> argv = {o.spotflow.string(), "run", recipe_file.string(), "--out", out.string(), "-q"};
    if (o.threads > 0) argv.insert(argv.end(), {"--threads", std::to_string(o.threads)});
    const bench::ChildRun run = bench::run_child(argv, {}, {o.timeout_s, o.max_rss_mib});
    for (auto& r : rs) r.run_s = run.seconds;
    const auto fail = [&](const std::string& why) {
        for (auto& r : rs) r.ok = false, r.error = why;
        log << fmt::format("  {} {} x {}: FAILED ({:.1f} s): {}\n", s.name, det, join(linkers), run.seconds, why);
        return rs;
    };
    if (!run.killed.empty()) return fail("killed: " + run.killed);
    if (run.exit_code != 0) return fail(failure(out, run));
    try {
        std::ifstream in_summary(out / "evaluation_summary.json");
        const json d = json::parse(in_summary);
        std::ifstream in_run(out / "run.json");
        const json rj = json::parse(in_run);
        std::map<std::string, double> busy;
        for (const auto& node : rj.at("nodes")) busy[node.at("id").get<std::string>()] = node.at("busy_seconds").get<double>();
        std::map<std::string, std::map<std::string, std::string>> scores;
        for (const auto& row : bench::read_csv((out / "tracking_scores.csv").string())) scores[row.at("tracker")] = row;
        for (size_t k = 0; k < linkers.size(); ++k) {
            PairResult& r = rs[k];
            r.truth = d.at("true_positives").get<int64_t>() + d.at("false_negatives").get<int64_t>();
            r.detections = d.at("true_positives").get<int64_t>() + d.at("false_positives").get<int64_t>();
            r.precision = d.at("precision"), r.recall = d.at("recall"), r.f1 = d.at("f1");
            if (d.at("true_positives").get<int64_t>() > 0)
                r.crlb_px = opt(d.at("crlb_rms_px")), r.rmse_over_crlb = opt(d.at("rmse_over_crlb"));
            const json& c = d.at("neighbourhoods");
            r.ratio_isolated = opt(c.at("isolated").at("rmse_over_crlb"));
            r.ratio_neighbouring = opt(c.at("neighbouring").at("rmse_over_crlb"));
            r.recall_neighbouring = opt(c.at("neighbouring").at("recall"));
            r.truth_isolated = c.at("isolated").at("truth"), r.truth_neighbouring = c.at("neighbouring").at("truth");
            r.truth_close = c.at("close").at("truth");
            const auto& piped = scores.at(linkers[k]);
            r.alpha = opt_text(piped, "alpha"), r.beta = opt_text(piped, "beta");
            r.jsc_theta = opt_text(piped, "jsc_theta"), r.fragmentation = opt_text(piped, "fragmentation");
            const auto& alone = scores.at(alone_label(linkers[k]));
            r.alpha_linker_only = opt_text(alone, "alpha");
            r.fragmentation_linker_only = opt_text(alone, "fragmentation");
            r.simulate_s = busy.at("sim"), r.detect_s = busy.at("detect");
            r.link_s = busy.at(link_id(k)) + busy.at(gapfill_id(k));
            r.ok = true;
        }
    } catch (const std::exception& e) {
        return fail(std::string("reading the evaluators' files: ") + e.what());
    }
    for (const auto& r : rs)
        log << fmt::format("  {} {} x {}: F1 {:.3f}, alpha {:.3f}\n", s.name, det, r.linker, r.f1, r.alpha.value_or(NAN));
    log << fmt::format("  ({:.1f} s)\n", run.seconds);
    std::flush(log);
    if (!o.keep) fs::remove_all(dir);
    return rs;
}

std::string fmt_opt(const std::optional<double>& v, const char* spec = "{:.3f}") {
    return v ? fmt::format(fmt::runtime(spec), *v) : "-";
}

std::string short_name(const std::string& plugin) {
    const auto dot = plugin.find('.');
    return dot == std::string::npos ? plugin : plugin.substr(dot + 1);
}

} // namespace

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> s = make_scenarios();
    return s;
}

const std::vector<std::string>& known_detectors() {
    static const std::vector<std::string> d = {"detect.wavelet", "detect.decode"};
    return d;
}

const std::vector<std::string>& known_linkers() {
    static const std::vector<std::string> l = {"link.lap", "link.nearest", "link.magik"};
    return l;
}

std::vector<Scenario> select_scenarios(const Options& o) {
    if (o.scenarios.empty()) return scenarios();
    std::vector<Scenario> out;
    std::vector<std::string> names;
    for (const auto& s : scenarios()) names.push_back(s.name);
    for (const auto& want : o.scenarios) {
        const auto it = std::find_if(scenarios().begin(), scenarios().end(), [&](const Scenario& s) { return s.name == want; });
        if (it == scenarios().end())
            throw std::invalid_argument(fmt::format("--scenario: unknown scenario '{}' (known: {})", want, join(names)));
        out.push_back(*it);
    }
    return out;
}

std::vector<std::string> available(const Options& o, const std::vector<std::string>& wanted,
                                   const std::vector<std::string>& known, const char* option) {
    for (const auto& w : wanted)
        if (std::find(known.begin(), known.end(), w) == known.end())
            throw std::invalid_argument(fmt::format("{}: unknown plugin '{}' (known: {})", option, w, join(known)));
    std::vector<std::string> out;
    for (const auto& p : wanted.empty() ? known : wanted) {
        // Built when the CLI can describe it (its library is in the plugin folder).
        if (bench::run_child({o.spotflow.string(), "describe", p}).exit_code == 0) out.push_back(p);
    }
    return out;
}

json recipe(const Scenario& s, const std::string& detector, const std::vector<std::string>& linkers, bool quick) {
    json sim = s.sim;
    if (quick) sim["num_frames"] = s.quick_frames;
    // The CRLB's physics is the scenario's: detected photons = truth photons
    // x qe, background photons per px, the PSF, and F^2 = 2 on an EMCCD.
    const json eval_det = {{"qe", value_or(sim, "qe", 0.9)},
                           {"excess_noise", value_or<std::string>(sim, "camera", "scmos") == "emccd" ? 2.0 : 1.0},
                           {"psf_sigma_px", value_or(sim, "psf_sigma_px", 1.3)},
                           {"background_photons", value_or(sim, "background", 10.0)},
                           {"metrics_file", ""}, {"plots_file", ""}, {"examples_file", ""}};
    const json no_files = {{"track_statistics", ""}, {"fragmentation", ""}, {"track_length_analysis", ""},
                           {"diagnostic_summary", ""}, {"comparison", ""}, {"comparison_plot", ""}};
    json nodes = {{{"id", "sim"}, {"plugin", "sim.tirf"}, {"params", sim}},
                  {{"id", "detect"}, {"plugin", detector}},
                  {{"id", "eval_detections"}, {"plugin", "eval.detections"}, {"params", eval_det}}};
    json edges = {{{"from", "sim.movie"}, {"to", "detect.movie"}},
                  {{"from", "detect.detections"}, {"to", "eval_detections.detections"}},
                  {{"from", "sim.truth"}, {"to", "eval_detections.truth"}},
                  {{"from", "sim.truth"}, {"to", "eval_tracks.truth"}},
                  {{"from", "eval_tracks.metrics"}, {"to", "write_scores.table"}}};
    json labels = json::array();
    for (size_t k = 0; k < linkers.size(); ++k) {
        const std::string l = link_id(k), g = gapfill_id(k);
        nodes.push_back({{"id", l}, {"plugin", linkers[k]}});
        // As the shipped recipes run every linker (classical.json, compare_trackers.json).
        nodes.push_back({{"id", g}, {"plugin", "gapfill.fragments"}, {"params", {{"figure", ""}, {"fill_gaps", "linear"}}}});
        edges.push_back({{"from", "detect.detections"}, {"to", l + ".detections"}});
        edges.push_back({{"from", l + ".tracks"}, {"to", g + ".tracks"}});
        edges.push_back({{"from", g + ".tracks"}, {"to", "eval_tracks.tracks"}});
        edges.push_back({{"from", l + ".tracks"}, {"to", "eval_tracks.tracks"}});
        labels.push_back(linkers[k]);
        labels.push_back(alone_label(linkers[k]));
    }
    nodes.push_back({{"id", "eval_tracks"}, {"plugin", "eval.tracks"}, {"params", {{"labels", labels}, {"files", no_files}}}});
    nodes.push_back({{"id", "write_scores"}, {"plugin", "write.csv"}, {"params", {{"file", "tracking_scores.csv"}}}});
    return {{"spotflow_recipe", 1},
            {"name", "suite_" + s.name},
            {"description", fmt::format("Scenario suite: {} with {} and {}: {}", s.name, detector, join(linkers), s.what)},
            {"seed", 0},
            {"nodes", nodes},
            {"edges", edges}};
}

std::vector<PairResult> run(const Options& o, std::ostream& log) {
    const auto chosen = select_scenarios(o);
    const auto detectors = available(o, o.detectors, known_detectors(), "--detectors");
    const auto linkers = available(o, o.linkers, known_linkers(), "--linkers");
    for (const auto& [kind, wanted, got] : {std::make_tuple("detectors", &o.detectors, &detectors),
                                            std::make_tuple("linkers", &o.linkers, &linkers)}) {
        const auto& from = wanted->empty() ? (std::string(kind) == "detectors" ? known_detectors() : known_linkers()) : *wanted;
        for (const auto& p : from)
            if (std::find(got->begin(), got->end(), p) == got->end())
                log << fmt::format("{} is not built: its pairs are skipped\n", p);
        if (got->empty()) throw std::invalid_argument(fmt::format("no {} of the selection is built", kind));
    }
    fs::create_directories(o.work);
    std::vector<PairResult> results;
    for (const auto& s : chosen)
        for (const auto& d : detectors) {
            auto group = run_group(o, s, d, linkers, log);
            // A failed run: each linker alone, so that one failing pair
            // does not hide the others' figures.
            if (linkers.size() > 1 && !group.front().ok) {
                group.clear();
                for (const auto& l : linkers) group.push_back(run_group(o, s, d, {l}, log).front());
            }
            results.insert(results.end(), group.begin(), group.end());
        }
    if (!o.keep) fs::remove_all(o.work);
    return results;
}

void print_table(const std::vector<Scenario>& chosen, const std::vector<PairResult>& results, std::ostream& out) {
    out << "\nScenario suite. F1: eval.detections (optimal matching within 2 px). CRLB: per axis, RMS over matched\n"
           "emitters (Mortensen 2010, x F^2 = 2 on EMCCD). R/C: per-axis RMSE / CRLB, overall, isolated (no other\n"
           "punctum within 10 px) and neighbouring (nearest 3-10 px). alpha, JSCtheta, frag: eval.tracks on the linker\n"
           "followed by gapfill.fragments (fill_gaps linear, as the shipped recipes); 'alone': the linker's own tracks.\n"
           "det s, link s: busy seconds of the detector and of linker + gap filler, from run.json.\n";
    for (const auto& s : chosen) {
        out << fmt::format("\n{}: {}\n", s.name, s.what);
        out << fmt::format("  {:<8} {:<8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}\n", "detector",
                           "linker", "F1", "CRLB", "R/C", "R/C is", "R/C nb", "alpha", "alone", "JSCth", "frag", "alone",
                           "det s", "link s");
        for (const auto& r : results) {
            if (r.scenario != s.name) continue;
            if (!r.ok) {
                out << fmt::format("  {:<8} {:<8} FAILED: {}\n", short_name(r.detector), short_name(r.linker), r.error);
                continue;
            }
            out << fmt::format("  {:<8} {:<8} {:>6.3f} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6.2f} {:>7.2f}\n",
                               short_name(r.detector), short_name(r.linker), r.f1, fmt_opt(r.crlb_px),
                               fmt_opt(r.rmse_over_crlb, "{:.2f}"), fmt_opt(r.ratio_isolated, "{:.2f}"),
                               fmt_opt(r.ratio_neighbouring, "{:.2f}"), fmt_opt(r.alpha), fmt_opt(r.alpha_linker_only),
                               fmt_opt(r.jsc_theta), fmt_opt(r.fragmentation, "{:.2f}"),
                               fmt_opt(r.fragmentation_linker_only, "{:.2f}"), r.detect_s, r.link_s);
        }
    }
    std::fflush(stdout);
}

json to_json(const std::vector<Scenario>& chosen, const std::vector<PairResult>& results, const Options& o) {
    const auto num = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    json sc = json::array();
    for (const auto& s : chosen) {
        json sim = s.sim;
        if (o.quick) sim["num_frames"] = s.quick_frames;
        sc.push_back({{"name", s.name}, {"what", s.what}, {"sim_tirf_params", sim}});
    }
    json rs = json::array();
    for (const auto& r : results) {
        json j = {{"scenario", r.scenario}, {"detector", r.detector}, {"linker", r.linker}, {"ok", r.ok}};
        if (!r.ok) {
            j["error"] = r.error;
        } else {
            j["detection"] = {{"truth", r.truth}, {"detections", r.detections}, {"precision", r.precision}, {"recall", r.recall},
                              {"f1", r.f1}, {"crlb_rms_px", num(r.crlb_px)}, {"rmse_over_crlb", num(r.rmse_over_crlb)},
                              {"rmse_over_crlb_isolated", num(r.ratio_isolated)},
                              {"rmse_over_crlb_neighbouring", num(r.ratio_neighbouring)},
                              {"recall_neighbouring", num(r.recall_neighbouring)}, {"truth_isolated", r.truth_isolated},
                              {"truth_neighbouring", r.truth_neighbouring}, {"truth_close", r.truth_close}};
            j["tracking"] = {{"alpha", num(r.alpha)}, {"beta", num(r.beta)}, {"jsc_theta", num(r.jsc_theta)},
                             {"fragmentation", num(r.fragmentation)}, {"alpha_linker_only", num(r.alpha_linker_only)},
                             {"fragmentation_linker_only", num(r.fragmentation_linker_only)}};
        }
        j["seconds"] = {{"simulate", r.simulate_s}, {"detect", r.detect_s}, {"link_and_gapfill", r.link_s}, {"run", r.run_s}};
        rs.push_back(j);
    }
    return {{"suite", "spotflow scenario suite (bench/scenario_suite, issue 12)"},
            {"quick", o.quick},
            {"definitions", "docs/metrics.md; every figure is read from eval.detections' evaluation_summary.json, "
                            "eval.tracks' metrics table and run.json"},
            {"pipeline", "sim.tirf -> detector -> linker -> gapfill.fragments (fill_gaps linear); eval.detections on the "
                         "detections, eval.tracks on the gap-filled ('pipeline') and the linker's own ('linker_only') tracks"},
            {"scenarios", sc},
            {"results", rs}};
}

std::string to_csv(const std::vector<PairResult>& results) {
    const auto c = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); };
    std::string s = "scenario,detector,linker,ok,truth,detections,precision,recall,f1,crlb_rms_px,rmse_over_crlb,"
                    "rmse_over_crlb_isolated,rmse_over_crlb_neighbouring,recall_neighbouring,truth_isolated,"
                    "truth_neighbouring,truth_close,alpha,beta,jsc_theta,fragmentation,alpha_linker_only,"
                    "fragmentation_linker_only,simulate_s,detect_s,link_s,run_s\n";
    for (const auto& r : results) {
        s += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.scenario,
                         r.detector, r.linker, r.ok ? 1 : 0, r.truth, r.detections, r.precision, r.recall, r.f1, c(r.crlb_px),
                         c(r.rmse_over_crlb), c(r.ratio_isolated), c(r.ratio_neighbouring), c(r.recall_neighbouring),
                         r.truth_isolated, r.truth_neighbouring, r.truth_close, c(r.alpha), c(r.beta), c(r.jsc_theta),
                         c(r.fragmentation), c(r.alpha_linker_only), c(r.fragmentation_linker_only), r.simulate_s, r.detect_s,
                         r.link_s, r.run_s);
    }
    return s;
}

} // namespace suite

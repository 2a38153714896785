// spotflow simulate: the seed's dataset generator (seed 000, Step 1) as one
// command. It runs a one-node recipe of sim.dataset, so the dataset gets the
// same validation, output commit and run.json as any recipe.
#include <fmt/format.h>

#include "commands.hpp"
#include "errors.hpp"

namespace spotflow::cli {

int simulate(const SimulateArgs& a) {
    if (a.image_size.size() == 2 && a.image_size[0] != a.image_size[1])
        throw UserError(fmt::format("--image_size {} {}: the simulator draws square fields of view only",
                                     a.image_size[0], a.image_size[1]));
    nlohmann::json params = {{"num_samples", a.num_samples},
                             {"num_tracks", a.num_puncta_mean ? *a.num_puncta_mean : a.num_tracks},
                             {"num_frames", a.num_frames},
                             {"image_size", a.image_size.at(0)},
                             {"photons", a.photons},
                             {"calcium", a.calcium}};
    if (a.num_puncta_mean) params["num_tracks_poisson"] = true;
    if (a.seed) params["seed"] = *a.seed;
    nlohmann::json doc = {{"spotflow_recipe", 1},
                          {"name", "simulate"},
                          {"description", "spotflow simulate: a simulated TIRF dataset in the seed-000 layout"},
                          {"nodes", {{{"id", "simulate"}, {"plugin", "sim.dataset"}, {"params", params}}}}};
    if (a.seed) doc["seed"] = *a.seed;

    RunArgs run;
    run.recipe = "(spotflow simulate)";
    run.out = a.output;
    run.threads = a.threads;
    run.quiet = a.quiet;
    run.argv = a.argv;
    for (const auto& s : a.sets) run.sets.push_back("simulate." + s);
    return run_recipe(run, parse_recipe(doc.dump(), "spotflow-simulate"));
}

} // namespace spotflow::cli

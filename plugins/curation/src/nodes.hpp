// The two curation nodes, exported together by plugin.cpp.
#pragma once

#include "spotflow/plugin.h"

namespace curation {

// The port type that carries a fitted pipeline from train.curation to
// classify.curation: a one-row table with the model file's JSON text in a
// utf8 column "model".
constexpr const char* kModelType = "curation_model";

extern const spotflow_plugin_desc kTrainDesc;
extern const spotflow_plugin_desc kClassifyDesc;

} // namespace curation

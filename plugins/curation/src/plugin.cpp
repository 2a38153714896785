// train.curation and classify.curation: one library, two descriptors.
#include "nodes.hpp"
#include "spotflow/entry.hpp"

SPOTFLOW_EXPORT_PLUGINS(curation::kTrainDesc, curation::kClassifyDesc);

/* spotflow/plugin.h: what a plugin library exports, and how a plugin
 * describes itself without being instantiated.
 *
 * A library exports exactly one symbol, a constant data object:
 *
 *     SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {
 *         SPOTFLOW_ABI_VERSION_INIT, my_plugin_count, my_plugin_descriptor };
 *
 * The host reads entry.abi before it calls anything; a library built for
 * another ABI major is refused. Then it lists the descriptors: that is all
 * `spotflow plugins` and `spotflow describe` run of a plugin's code.
 *
 * Everything a descriptor points to is static and lives as long as the
 * library is loaded; the host keeps the library loaded while any pointer
 * taken from it is alive.
 */
#ifndef SPOTFLOW_PLUGIN_H
#define SPOTFLOW_PLUGIN_H

#include <stdint.h>

#include "spotflow/host.h"
#include "spotflow/loss.h"
#include "spotflow/node.h"
#include "spotflow/packet.h"
#include "spotflow/status.h"
#include "spotflow/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SPOTFLOW_EXPORT __declspec(dllexport)
#else
#define SPOTFLOW_EXPORT __attribute__((visibility("default")))
#endif

/* Port flags. */
enum {
    SPOTFLOW_PORT_OPTIONAL = 1u << 0,     /* input may stay unconnected */
    SPOTFLOW_PORT_MULTIPLE = 1u << 1,     /* input accepts several edges (e.g. one per tracker) */
    SPOTFLOW_PORT_WHOLE_STREAM = 1u << 2  /* input is consumed only at finish (e.g. linkers) */
};

/* Well-known port types. A port's type is a string so that plugins can add
 * their own; an edge needs equal types, except that an input of type
 * "table" takes any table and one of type "tensor" takes any tensor. */
#define SPOTFLOW_TYPE_MOVIE "movie"           /* tensor T x H x W (or T x C x H x W) */
/* mask: tensor T x H x W of signed integer labels (int8..int64, int32 by
 * default): 0 = background, k >= 1 = label k (an object or a class, as the
 * port's summary says), -1 = ignore (not annotated: losses and scores skip
 * the element). Other negative values are invalid. */
#define SPOTFLOW_TYPE_MASK "mask"
#define SPOTFLOW_TYPE_TENSOR "tensor"         /* any tensor */
#define SPOTFLOW_TYPE_DETECTIONS "detections" /* table: frame, x, y, ... */
#define SPOTFLOW_TYPE_TRACKS "tracks"         /* table: frame, x, y, track_id, ... */
#define SPOTFLOW_TYPE_TRACES "traces"         /* table: track_id, frame, f, f0, dff */
#define SPOTFLOW_TYPE_EVENTS "events"         /* table */
#define SPOTFLOW_TYPE_METRICS "metrics"       /* table: one row per scored item */
#define SPOTFLOW_TYPE_TABLE "table"           /* any table */
/* 1.1: probability: tensor of float32 values in [0, 1] (a probability map),
 * T x H x W, or T x C x H x W with one channel per class; the frame offsets
 * of the movie it was computed from. An input of type "tensor" takes it. */
#define SPOTFLOW_TYPE_PROBABILITY "probability"

typedef struct spotflow_port_desc {
    const char* name;    /* [a-z][a-z0-9_]*, unique among the node's inputs (or outputs) */
    const char* type;    /* see SPOTFLOW_TYPE_* */
    spotflow_data_kind kind; /* SPOTFLOW_DATA_TENSOR or SPOTFLOW_DATA_TABLE */
    uint32_t flags;      /* SPOTFLOW_PORT_* */
    const char* summary; /* one line */
} spotflow_port_desc;

/* Plugin kinds, as labels: "source", "detector", "linker", "gapfiller",
 * "extractor", "evaluator", "writer", "figure", "trainer", "loss",
 * "segmenter", "classifier", "filter". */

typedef struct spotflow_plugin_desc {
    const char* id;       /* versioned-by-name dotted id, e.g. "detect.decode" */
    const char* version;  /* the plugin's own version, semver, e.g. "1.2.0" */
    const char* summary;  /* one line */
    const char* kind;     /* one of the labels above */

    const spotflow_port_desc* inputs;
    uint32_t n_inputs;
    uint32_t n_outputs;
    const spotflow_port_desc* outputs;

    /* JSON Schema (draft 7) of the params object, as JSON text: type
     * "object", each property with a description and, where there is one, a
     * default. The host validates params against it and fills defaults before
     * create is called. */
    const char* params_schema;

    /* Exactly one of these is set: node for kind != "loss", loss for
     * kind == "loss". */
    const spotflow_node_vtable* node;
    const spotflow_loss_vtable* loss;
} spotflow_plugin_desc;

typedef struct spotflow_plugin_entry {
    /* Read before anything else; must be SPOTFLOW_ABI_VERSION_INIT of the
     * SDK the library was built with. */
    spotflow_abi_version abi;

    /* plugin_count: how many plugins this library holds. The host calls it
     * once per load; no ownership crosses. [thread-safe] */
    uint32_t (*plugin_count)(void);

    /* plugin: the i-th descriptor; NULL if i is out of range. Owned by the
     * library and never freed: the host keeps the library loaded for the
     * life of the process and reads the descriptor (and the vtables it
     * points to) only up to this entry's abi.minor. [thread-safe] */
    const spotflow_plugin_desc* (*plugin)(uint32_t i);
} spotflow_plugin_entry;

/* The name of the one exported symbol. */
#define SPOTFLOW_ENTRY_SYMBOL "spotflow_entry"

#ifdef __cplusplus
}
#endif

#endif /* SPOTFLOW_PLUGIN_H */
